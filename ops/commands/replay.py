"""``is21 replay``: a folder of photos as N cameras (a camera simulator)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from is21.ops.commands.base import Command, count, rate
from is21.schemas.settings import Settings


class Replay(Command):
    failures = ((FileNotFoundError, 2),)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dir", help="a folder of JPEGs")
        parser.add_argument("--cameras", type=count, default=4, help="cameras replayed")
        parser.add_argument("--fps", type=rate, default=1.0, help="frames a second per camera")
        parser.add_argument("--seconds", type=rate, default=10.0, help="how long")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.producer import FrameProducer
        from is21.producer.replay import load_photos, replay

        producer = FrameProducer.from_settings(settings)
        photos = load_photos(Path(args.dir))
        report = replay(producer, photos, cameras=args.cameras, fps=args.fps, seconds=args.seconds)
        total = sum(report.submitted.values())
        fallbacks = sum(1 for t in report.tickets if t.fallback is not None)
        fps = round(total / max(report.seconds, 1e-9), 2)
        summary = {"submitted": total, "fallbacks": fallbacks, "seconds": round(report.seconds, 2)}
        print(json.dumps({**summary, "fps": fps}))
        if total and fallbacks == total:  # nothing reached the fleet: say why, exit 1
            why = next(t.fallback.error for t in report.tickets if t.fallback is not None)
            self.report(f"every frame fell back to no_event: {why}")
            return 1
        return 0
