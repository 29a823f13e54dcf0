"""``is21 slo``: availability, p95 latency and error rate against their targets."""

from __future__ import annotations

import argparse
import json
import urllib.parse

from is21.ops.commands.base import Command
from is21.ops.slo import DURATION, SloError
from is21.schemas.settings import Settings


def http_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    return text


def duration(text: str) -> str:
    if not DURATION.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a PromQL duration (30d, 12h, 1h30m): {text!r}")
    return text


class Slo(Command):
    failures = ((SloError, 1),)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--prometheus", type=http_url, default="http://127.0.0.1:9090", help="its base URL"
        )
        parser.add_argument("--window", type=duration, default="30d", help="a PromQL duration")
        parser.add_argument("--json", action="store_true", help="the rows as JSON")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.slo import measure, render

        rows = measure(args.prometheus, args.window)
        print(json.dumps(rows) if args.json else render(rows, args.window))
        return 1 if any(r["met"] is False for r in rows) else 0
