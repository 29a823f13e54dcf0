"""``is21 soak``: the fleet against a replaying producer for hours (docs/reliability.md)."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from is21.ops.commands.base import SAMPLES, Command, count, rate
from is21.ops.embedded_redis import RedisUnavailable
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class Soak(Command):
    failures = ((ModelError, 2), (RedisUnavailable, 1), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--hours", type=rate, default=1.0, help="how long it runs")
        parser.add_argument("--interval", type=rate, default=60.0, help="seconds between samples")
        parser.add_argument(
            "--warmup", type=float, default=60.0, help="seconds left out of the slope"
        )
        parser.add_argument("--images", type=Path, default=SAMPLES, help="a folder of JPEGs")
        parser.add_argument("--cameras", type=count, default=30, help="cameras replayed")
        parser.add_argument("--fps", type=rate, default=1.0, help="frames per second per camera")
        parser.add_argument("--workers", type=count, default=2, help="workers started")
        parser.add_argument(
            "--out", type=Path, help="folder for soak.csv (default: a new one under the temp dir)"
        )
        parser.add_argument("--json", action="store_true", help="the summary as JSON")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.lab.soak import run_soak

        out = args.out or Path(tempfile.mkdtemp(prefix="is21-soak-"))
        out.mkdir(parents=True, exist_ok=True)
        report = run_soak(
            settings,
            images=args.images,
            hours=args.hours,
            interval=args.interval,
            warmup=args.warmup,
            cameras=args.cameras,
            fps=args.fps,
            workers=args.workers,
            out_csv=out / "soak.csv",
        )
        summary = {**report.as_dict(), "csv": str(out / "soak.csv")}
        if args.json:
            print(json.dumps(summary))
            return 0
        print(f"{summary['samples']} samples in {summary['csv']}")
        if report.why is not None:
            print(f"no memory slope: {report.why}")
            return 0
        print(f"after {args.warmup:.0f} s warm-up:")
        for key, slope in summary["slope_mb_per_hour"].items():
            grown = summary["growth_after_warmup_mb"][key]
            print(f"  {key:<14} slope {slope:+.2f} MB/hour, grew {grown:.2f} MB")
        return 0
