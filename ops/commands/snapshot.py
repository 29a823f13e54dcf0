"""``is21 snapshot CAMERA``: a camera's newest frame with its result drawn on."""

from __future__ import annotations

import argparse
from pathlib import Path

from is21.ops.commands.base import Command
from is21.ops.latest import NoFrame
from is21.schemas.settings import Settings
from is21.workers.image import ImageError


class Snapshot(Command):
    failures = ((NoFrame, 1), (ImageError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("camera", help="the camera id, as submitted")
        parser.add_argument(
            "--out", type=Path, help="the JPEG to write (default: CAMERA-FRAMEID.jpg here)"
        )
        parser.add_argument("--frame", help="an older frame's id, while it is kept")
        parser.add_argument("--raw", action="store_true", help="the frame as sent, undrawn")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.annotate import annotate, caption
        from is21.ops.latest import latest_picture
        from is21.protocol.connection import connect

        client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
        picture = latest_picture(client, args.camera, args.frame)
        jpeg = picture.jpeg if args.raw else annotate(picture, settings.max_pixels)
        out = args.out or Path(f"{args.camera}-{picture.frame_id}.jpg")
        out.write_bytes(jpeg)
        print(f"{out}: {caption(picture)}")
        return 0
