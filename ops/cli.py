"""The ``is21`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from pydantic import ValidationError

from is21.ops.commands import (
    cmd_backup,
    cmd_bench,
    cmd_chaos,
    cmd_demo,
    cmd_detect,
    cmd_health,
    cmd_models,
    cmd_npu,
    cmd_replay,
    cmd_retention,
    cmd_schema,
    cmd_slo,
    cmd_soak,
    cmd_status,
    cmd_submit,
    cmd_worker,
)
from is21.schemas.settings import Settings, describe

# Commands that run under systemd and log JSON lines; the others talk to a person.
SERVICES = ("worker", "health")

if TYPE_CHECKING:  # argparse names the type of add_subparsers() only privately
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="is21", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_fleet_commands(sub)
    add_operator_commands(sub)
    add_backup_commands(sub)
    add_measuring_commands(sub)
    return parser


def add_fleet_commands(sub: Subparsers) -> None:
    """The frame path: a worker, the detectors alone, frames in, the demo."""

    p = sub.add_parser("worker", help="run one detection worker (an RQ SimpleWorker)")
    p.add_argument("--name", help="name shown in rq info (default HOST.npuK or HOST.pidP)")
    p.add_argument("--npu-core", help="NPU core 0/1/2, auto or all (systemd instance %%i)")
    p.add_argument("--backend", choices=["onnx", "rknn"], help="default IS21_BACKEND or onnx")
    p.add_argument("--queue", help="RQ queue (default IS21_QUEUE or 'is21')")
    p.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("detect", help="run the detectors on image files, without Redis")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("submit", help="submit image files as frames of one camera")
    p.add_argument("--camera", required=True)
    p.add_argument("--request-id")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for each result")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("replay", help="replay a folder of photos as N cameras")
    p.add_argument("dir")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--fps", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("demo", help="embedded Redis + 2 workers + replayed cameras")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_demo)


def add_operator_commands(sub: Subparsers) -> None:
    """What an operator runs: health, status, retention, the schema, the models."""
    p = sub.add_parser("health", help="HTTP /healthz, /metrics, /v1/capabilities, /v1/schema")
    p.add_argument("--host", help="bind address (default IS21_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default IS21_PORT or 9000)")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("status", help="workers, queue, cameras and recent events")
    p.add_argument("--once", action="store_true", help="one table, no live view")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("retention", help="trim frames, results and events by age")
    p.add_argument("--dry-run", action="store_true", help="report, remove nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("schema", help="show or push the event schema")
    schema_sub = p.add_subparsers(dest="action", required=True)
    schema_sub.add_parser("show", help="print the schema in force, as push takes it")
    push = schema_sub.add_parser("push", help="validate and store a schema JSON file")
    push.add_argument("file")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("models", help="list, verify, install or roll back model files")
    models_sub = p.add_subparsers(dest="action", required=True)
    models_sub.add_parser("list", help="the detectors of the manifest")
    q = models_sub.add_parser("verify", help="check every file's sha256, load and run it")
    q.add_argument("--sample", help="a JPEG to run (default: a generated image)")
    q = models_sub.add_parser("install", help="install FILE as the new weights of NAME")
    q.add_argument("file")
    q.add_argument("--name", required=True)
    q.add_argument("--sample", help="a JPEG to run (default: a generated image)")
    q = models_sub.add_parser("rollback", help="restore the file NAME had before")
    q.add_argument("name")
    p.set_defaults(func=cmd_models)
    add_npu_commands(models_sub)


def add_npu_commands(models_sub: Subparsers) -> None:
    """``models convert | compare``: rknn-toolkit2 in its own venv, then the proof."""
    q = models_sub.add_parser("convert", help="convert an ONNX model for a Rockchip NPU")
    q.add_argument("model", help="the float ONNX model")
    q.add_argument("--out", help="the .rknn to write (default MODEL-TARGET.rknn here)")
    q.add_argument("--name", help="the detector's name (default: the float one's + -TARGET)")
    q.add_argument("--install", action="store_true", help="compare, then install if it passes")
    npu_options(q, "--calibration", "photos to calibrate int8 on (the cameras' own are best)")
    q.set_defaults(func=cmd_npu)
    q = models_sub.add_parser("compare", help="the float model vs its conversion, on photos")
    q.add_argument("reference", help="the float ONNX model")
    q.add_argument("--candidate", required=True, help="the ONNX model to convert (often the same)")
    q.add_argument("--images", required=True, help="the photos to compare on")
    q.add_argument("--json", action="store_true")
    q.add_argument("--min-iou", type=float, default=0.9, help="median IoU of matched boxes")
    q.add_argument("--max-drift", type=float, default=0.05, help="median |score change|")
    npu_options(q, "--calibration", "the photos the conversion calibrates on")
    q.set_defaults(func=cmd_npu)


def npu_options(q: argparse.ArgumentParser, calibration: str, help_text: str) -> None:
    q.add_argument("--target", default="rk3588", help="the chip (rk3588, rk3576, rk3566 ...)")
    q.add_argument("--format", required=True, help="yolox | yolov8 | yolov8-rknn")
    q.add_argument(calibration, required=True, help=help_text)
    q.add_argument("--labels", help="class names, one per line, if the manifest lacks the model")
    q.add_argument(
        "--float-layers",
        default="proposal",
        help="layers kept float16: proposal (the toolkit's choice), none, NAME,NAME, or "
        "the ENTRY.toml convert wrote (the layers it chose)",
    )


def add_backup_commands(sub: Subparsers) -> None:
    """What a board needs to serve again: the models, the manifest, the schema."""
    p = sub.add_parser("backup", help="copy the manifest, its weights and the schema to DIR")
    p.add_argument("dir")
    p.add_argument("--include", nargs="*", default=[], help="operator files to keep too")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into IS21_MODEL_DIR and Redis")
    p.add_argument("dir")
    p.set_defaults(func=cmd_backup)


def add_measuring_commands(sub: Subparsers) -> None:
    """The SLOs, the soak and the bench (docs/reliability.md, docs/performance.md)."""
    p = sub.add_parser("slo", help="the service levels over a window, from Prometheus")
    p.add_argument("--prometheus", default="http://127.0.0.1:9090", help="its base URL")
    p.add_argument("--window", default="30d", help="a PromQL duration (default 30d)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_slo)

    p = sub.add_parser("soak", help="run the fleet for hours; memory slope in MB/hour")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the slope")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--cameras", type=int, default=30)
    p.add_argument("--fps", type=float, default=1.0, help="frames per second per camera")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--csv", default="soak.csv")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_soak)

    p = sub.add_parser("chaos", help="faults every ~20 s across hosts; a ledger at the end")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--interval", type=float, default=20.0, help="seconds between faults")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_chaos)

    p = sub.add_parser("bench", help="the detector alone vs the fleet, side by side")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cameras", default="1,8,30", help="comma-separated camera counts")
    p.add_argument("--seconds", type=float, default=8.0, help="measured seconds per phase")
    p.add_argument("--repeats", type=int, default=3, help="interleaved repeats (medians)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)


def main(argv: list[str] | None = None) -> int:
    import redis

    from is21.ops import logs
    from is21.ops.embedded_redis import RedisUnavailable
    from is21.producer.errors import FrameRejected, WaitTimeout
    from is21.workers.backends.rknn import BackendUnavailable
    from is21.workers.core_health import EXIT_CODE, CoreFailed
    from is21.workers.manifest import ModelError

    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"is21: invalid settings: {describe(exc)}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    if args.command in ("worker", "health"):
        from is21.ops.sentry import setup_sentry

        setup_sentry(args.command)
    try:
        code: int = args.func(args, settings)
        return code
    except (ModelError, BackendUnavailable) as exc:
        if args.command in SERVICES:  # the journal's JSON lines say why it did not start
            logging.getLogger("is21.ops.cli").error("%s did not start: %s", args.command, exc)
        else:
            print(f"is21: {exc}", file=sys.stderr)
        return 2
    except CoreFailed as exc:  # logged when it happened; systemd restarts the worker
        logging.getLogger("is21.ops.cli").error("worker exits %d: %s", EXIT_CODE, exc)
        return EXIT_CODE
    except (FrameRejected, WaitTimeout, FileNotFoundError, RedisUnavailable) as exc:
        print(f"is21: {exc}", file=sys.stderr)
        return 1
    except redis.ConnectionError as exc:
        print(f"is21: cannot reach Redis ({exc}); check IS21_REDIS_URL", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
