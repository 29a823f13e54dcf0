"""``is21 worker``: one detection worker process, under systemd or by hand."""

from __future__ import annotations

import argparse
import logging

from is21.ops.commands.base import Command
from is21.schemas.frames import is_camera_id
from is21.schemas.settings import Settings
from is21.workers.backends.rknn import BackendUnavailable
from is21.workers.manifest import ModelError
from is21.workers.worker import NameInUse


def worker_name(text: str) -> str:
    """Names live in Redis keys, rq info and the journal: the camera ids' alphabet."""
    if not is_camera_id(text):
        raise argparse.ArgumentTypeError(f"{text[:80]!r}: a worker name is 1-64 of [A-Za-z0-9_.-]")
    return text


class Worker(Command):
    service = True
    failures = ((ModelError, 2), (BackendUnavailable, 2), (NameInUse, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--name", type=worker_name, help="shown in rq info (default HOST.npuK or HOST.pidP)"
        )
        parser.add_argument("--npu-core", help="NPU core 0/1/2, auto or all (systemd instance %%i)")
        parser.add_argument(
            "--backend", choices=["onnx", "rknn"], help="default IS21_BACKEND or onnx"
        )
        parser.add_argument("--queue", help="RQ queue (default IS21_QUEUE or 'is21')")
        parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.workers.core_health import EXIT_CODE, CoreFailed
        from is21.workers.start import run_worker

        if args.backend:
            settings = settings.model_copy(update={"backend": args.backend})
        try:
            run_worker(
                settings, name=args.name, queue=args.queue, burst=args.burst, npu_core=args.npu_core
            )
        except CoreFailed as exc:  # systemd restarts it (Restart=on-failure)
            logging.getLogger("is21.ops.cli").error("worker exits %d: %s", EXIT_CODE, exc)
            return EXIT_CODE
        return 0
