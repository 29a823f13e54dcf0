"""``is21 slo``: availability, p95 latency and error rate against their targets."""

from __future__ import annotations

import argparse
import json

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings


class Slo(Command):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="its base URL")
        parser.add_argument("--window", default="30d", help="a PromQL duration (default 30d)")
        parser.add_argument("--json", action="store_true")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.slo import measure, render

        rows = measure(args.prometheus, args.window)
        print(json.dumps(rows) if args.json else render(rows, args.window))
        return 1 if any(r["met"] is False for r in rows) else 0
