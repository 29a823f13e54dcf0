"""``is21 health``: the HTTP endpoint is22 and Prometheus read."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings


class Health(Command):
    service = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", help="bind address (default IS21_HOST or 127.0.0.1)")
        parser.add_argument("--port", type=int, help="port (default IS21_PORT or 9000)")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.health.server import serve_health

        serve_health(settings, host=args.host, port=args.port)
        return 0
