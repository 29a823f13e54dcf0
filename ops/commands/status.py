"""``is21 status``: workers, queue, cameras and recent events, once or live."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command, rate
from is21.schemas.settings import Settings


class Status(Command):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="one table, no live view")
        parser.add_argument("--json", action="store_true", help="one JSON object")
        parser.add_argument(
            "--all", action="store_true", help="every camera and the recent events, not fitted"
        )
        parser.add_argument(
            "--interval", type=rate, default=2.0, help="seconds between refreshes (and rates)"
        )

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.status import run_status
        from is21.protocol.connection import connect

        client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
        run_status(
            client,
            settings,
            once=args.once,
            as_json=args.json,
            every_camera=args.all,
            interval=args.interval,
        )
        return 0
