"""``is21 bench-incidents``: tracks and incidents on a real clip (lab/bench/incidents.py);
and what every bench on Debian's vtest.avi with the real model shares."""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class ClipBench(Command):
    """``bench`` names its module in ``lab/bench``: ``run_on_clip`` and ``format_report``."""

    bench = "incidents"
    failures = ((ModelError, 2), (FileNotFoundError, 1), (ModuleNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from is21.lab.bench.incidents import CLIP

        parser.add_argument("--clip", type=Path, default=CLIP, help="vtest.avi (opencv-doc)")
        parser.add_argument("--json", action="store_true", help="the report as JSON")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.workers.detector import detectors_from_settings

        module = importlib.import_module(f"is21.lab.bench.{self.bench}")
        report = module.run_on_clip(detectors_from_settings(settings), args.clip)
        print(json.dumps(report) if args.json else module.format_report(report))
        return 0


class BenchIncidents(ClipBench):
    bench = "incidents"
