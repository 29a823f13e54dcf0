"""``is21 submit``: image files as frames of one camera, through the producer library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from is21.ops.commands.base import Command
from is21.producer.errors import FrameRejected, WaitTimeout
from is21.schemas.settings import Settings


class Submit(Command):
    failures = ((FrameRejected, 1), (WaitTimeout, 1), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--camera", required=True)
        parser.add_argument("--request-id")
        parser.add_argument(
            "--wait", type=float, default=0.0, help="seconds to wait for each result"
        )
        parser.add_argument("images", nargs="+")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.producer import FrameProducer

        producer = FrameProducer.from_settings(settings)
        status = 0
        for image in args.images:
            jpeg = Path(image).read_bytes()
            ticket = producer.submit(args.camera, jpeg, request_id=args.request_id)
            if ticket.fallback is not None:
                print(f"is21: {image} not submitted: {ticket.fallback.error}", file=sys.stderr)
                status = 1
            elif args.wait:
                print(producer.wait(ticket, timeout=args.wait).model_dump_json())
            else:
                sent = {
                    "camera_id": ticket.camera_id,
                    "frame_id": ticket.frame_id,
                    "seq": ticket.seq,
                }
                print(json.dumps(sent))
        return status
