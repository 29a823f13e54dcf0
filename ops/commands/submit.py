"""``is21 submit``: image files as frames of one camera, through the producer library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from is21.ops.commands.base import Command, rate
from is21.producer.errors import FrameRejected, WaitTimeout
from is21.schemas.settings import Settings


class Submit(Command):
    failures = ((FrameRejected, 2), (FileNotFoundError, 2), (WaitTimeout, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--camera", required=True, help="camera id: 1-64 of [A-Za-z0-9_.-]")
        parser.add_argument("--request-id", help="echoed in the result")
        parser.add_argument("--wait", type=rate, help="seconds to wait for each result")
        parser.add_argument("--json", action="store_true", help="one JSON object per frame")
        parser.add_argument("images", nargs="+", help="JPEG files")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.results import Row, line
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
                result = producer.wait(ticket, timeout=args.wait)
                print(result.model_dump_json() if args.json else line(Row(result.frame_id, result)))
            elif args.json:
                sent = {
                    "camera_id": ticket.camera_id,
                    "frame_id": ticket.frame_id,
                    "seq": ticket.seq,
                }
                print(json.dumps(sent))
            else:
                frame = f"{ticket.camera_id} frame {ticket.frame_id} (seq {ticket.seq})"
                print(f"{image}: submitted as {frame}")
        return status
