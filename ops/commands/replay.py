"""``is21 replay``: a folder of photos as N cameras (a camera simulator)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings


class Replay(Command):
    failures = ((FileNotFoundError, 1),)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dir")
        parser.add_argument("--cameras", type=int, default=4)
        parser.add_argument("--fps", type=float, default=1.0)
        parser.add_argument("--seconds", type=float, default=10.0)

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.producer import FrameProducer
        from is21.producer.replay import load_photos, replay

        producer = FrameProducer.from_settings(settings)
        photos = load_photos(Path(args.dir))
        report = replay(producer, photos, cameras=args.cameras, fps=args.fps, seconds=args.seconds)
        total = sum(report.submitted.values())
        fps = round(total / max(report.seconds, 1e-9), 2)
        print(json.dumps({"submitted": total, "seconds": round(report.seconds, 2), "fps": fps}))
        return 0
