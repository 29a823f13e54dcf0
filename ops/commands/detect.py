"""``is21 detect``: the detectors on image files, no Redis."""

from __future__ import annotations

import argparse
from pathlib import Path

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings
from is21.workers.backends.rknn import BackendUnavailable
from is21.workers.manifest import ModelError


class Detect(Command):
    failures = ((ModelError, 2), (BackendUnavailable, 2), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("images", nargs="+", help="JPEG files")
        parser.add_argument("--json", action="store_true", help="one JSON object per image")
        parser.add_argument(
            "--draw", type=Path, metavar="DIR", help="also write each image, boxes drawn, here"
        )

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.detect import detect_files

        return detect_files(settings, args.images, as_json=args.json, draw=args.draw)
