"""``is21 demo``: the whole path on one machine (the README's first command)."""

from __future__ import annotations

import argparse
from pathlib import Path

from is21.ops.commands.base import SAMPLES, Command, count
from is21.ops.embedded_redis import RedisUnavailable
from is21.schemas.settings import Settings
from is21.workers.backends.rknn import BackendUnavailable
from is21.workers.manifest import ModelError


class Demo(Command):
    failures = (
        (ModelError, 2),
        (BackendUnavailable, 2),
        (RedisUnavailable, 1),
        (FileNotFoundError, 1),
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--images", type=Path, default=SAMPLES, help="a folder of JPEGs")
        parser.add_argument("--cameras", type=count, default=4, help="cameras replayed")
        parser.add_argument("--workers", type=count, default=2, help="workers started")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.demo import run_demo

        images = Path(args.images)
        return run_demo(settings, images=images, cameras=args.cameras, workers=args.workers)
