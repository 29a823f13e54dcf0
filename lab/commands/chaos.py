"""``sudo is21 chaos``: faults every ~20 s across hosts in namespaces; a ledger at the end."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from is21.ops.commands.base import SAMPLES, Command, rate
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class Chaos(Command):
    failures = ((ModelError, 2), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--images", type=Path, default=SAMPLES, help="a folder of JPEGs")
        parser.add_argument("--minutes", type=rate, default=3.0, help="how long it runs")
        parser.add_argument("--interval", type=rate, default=20.0, help="seconds between faults")
        parser.add_argument("--seed", type=int, default=0, help="the faults' order and targets")
        parser.add_argument("--plot", type=Path, metavar="DIR", help="also draw its timeline")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Needs root (network namespaces); the hosts, Redis and workers are its own, and
        are removed when it ends, also on SIGTERM (as on Ctrl-C)."""
        from is21.lab.chaos import run_chaos
        from is21.lab.chaos_report import format_ledger

        def terminate(_signum: int, _frame: object) -> None:
            raise SystemExit(128 + signal.SIGTERM)

        signal.signal(signal.SIGTERM, terminate)
        images = Path(args.images)
        run = run_chaos(images, settings.model_dir, args.minutes, args.seed, args.interval)
        print(format_ledger(run))
        if args.plot is not None:
            from is21.lab.commands.bench import plot

            plot(lambda plots: plots.chaos_plot(run, args.plot))
        return 0 if run.balanced() and not run.unexplained_lost else 1
