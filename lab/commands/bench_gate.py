"""``is21 bench-gate``: the change gate on real frames (lab/bench/gate.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class BenchGate(Command):
    failures = ((ModelError, 2), (FileNotFoundError, 1), (ModuleNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from is21.lab.bench.incidents import CLIP

        parser.add_argument("--clip", type=Path, default=CLIP, help="vtest.avi (opencv-doc)")
        parser.add_argument("--json", action="store_true", help="the report as JSON")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.lab.bench.gate import format_report, run_gate_bench
        from is21.workers.detector import detectors_from_settings

        report = run_gate_bench(detectors_from_settings(settings), args.clip)
        print(json.dumps(report) if args.json else format_report(report))
        return 0
