"""``is21 bench``: the detector alone vs the fleet vs one RQ job per frame (performance.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from is21.ops.commands.base import SAMPLES, Command, count, rate
from is21.ops.embedded_redis import RedisUnavailable
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class Bench(Command):
    failures = ((ModelError, 2), (RedisUnavailable, 1), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--images", type=Path, default=SAMPLES, help="a folder of JPEGs")
        parser.add_argument("--workers", type=count, default=2, help="workers started")
        parser.add_argument("--cameras", default="1,8,30", help="comma-separated camera counts")
        parser.add_argument("--seconds", type=rate, default=8.0, help="measured seconds per phase")
        parser.add_argument(
            "--repeats", type=count, default=3, help="interleaved repeats (medians)"
        )
        parser.add_argument("--json", action="store_true", help="the table as JSON")
        parser.add_argument("--plot", type=Path, metavar="DIR", help="also draw its figures")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.lab.bench import format_table, run_bench

        report = run_bench(
            settings,
            images=Path(args.images),
            workers=args.workers,
            cameras=[int(c) for c in args.cameras.split(",")],
            seconds=args.seconds,
            repeats=args.repeats,
        )
        print(json.dumps(report) if args.json else format_table(report))
        if args.plot is not None:
            plot(lambda plots: plots.bench_plots(report, args.plot))
        return 0


def plot(draw: Callable[[Any], list[Path]]) -> None:
    """Draws the figures with ``lab/plots.py``; without matplotlib, says so and goes on:
    the report is out already."""
    from is21.lab import plots

    try:
        for path in draw(plots):
            print(f"drew {path}", file=sys.stderr)
    except plots.PlotsUnavailable as exc:
        print(f"no plots: {exc}", file=sys.stderr)
