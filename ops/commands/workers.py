"""``is21 workers``: the workers the fleet expects; ``forget`` one that was retired."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command
from is21.ops.roster import StillAlive
from is21.schemas.settings import Settings


class Workers(Command):
    failures = ((StillAlive, 1),)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="a JSON list")
        sub = parser.add_subparsers(dest="action", metavar="{forget}")
        gone = sub.add_parser("forget", help="stop expecting workers that were retired")
        gone.add_argument("names", nargs="+", metavar="NAME", help="as `is21 workers` lists it")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops import roster
        from is21.protocol.connection import connect

        client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
        if args.action == "forget":
            forgotten = roster.forget(client, args.names)
            unknown = sorted(set(args.names) - set(forgotten))
            for name in forgotten:
                print(f"forgot {name}")
            if unknown:
                self.report(f"not expected, nothing to forget: {', '.join(unknown)}")
                return 1
            return 0
        members = roster.roster(client, settings)
        print(roster.as_json(members) if args.json else roster.table(members))
        return 0
