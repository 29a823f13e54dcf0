"""``is21 retention``: trim frames, results and events by age (a systemd timer runs it)."""

from __future__ import annotations

import argparse
import json
import sys

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings


class Retention(Command):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="report, remove nothing")
        parser.add_argument("--json", action="store_true", help="what was trimmed, as JSON")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.retention import run_retention
        from is21.protocol.connection import connect

        client = connect(settings.effective_redis_url)
        report = run_retention(client, settings, dry_run=args.dry_run).as_dict()
        if args.json:
            print(json.dumps(report))
        else:
            verb = "would remove" if args.dry_run else "removed"
            for kind in ("frames", "results", "events"):
                entries, size = report[kind]["entries"], report[kind]["bytes"]
                print(f"{kind:<8} {verb} {entries:>9} entries {size:>12} bytes")
            print(f"empty    {verb} {report['empty_streams']:>9} frame streams")
            for skipped in report["skipped"]:
                print(f"skipped  {skipped}", file=sys.stderr)
        return 1 if report["skipped"] else 0
