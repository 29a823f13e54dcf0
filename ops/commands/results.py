"""``is21 results CAMERA``: a camera's recent results and errors, decoded."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command, count
from is21.ops.results import NoSuchCamera
from is21.schemas.settings import Settings


class Results(Command):
    failures = ((ValueError, 2), (NoSuchCamera, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("camera", help="the camera id, as submitted")
        parser.add_argument("-n", "--count", type=count, default=20, help="how many (default 20)")
        parser.add_argument("--errors", action="store_true", help="only failed frames")
        parser.add_argument(
            "--follow", action="store_true", help="then print new ones as they come"
        )
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops import results
        from is21.protocol.connection import connect

        client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
        results.check_camera(client, args.camera)
        show = results.as_json if args.json else results.line
        rows = results.recent(client, args.camera, max(args.count, 0), args.errors)
        for r in rows:
            print(show(r), flush=True)
        if args.follow:
            after = rows[-1].entry_id if rows else "$"
            for r in results.follow(client, args.camera, after, args.errors):
                print(show(r), flush=True)
        return 0
