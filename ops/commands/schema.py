"""``is21 schema show | push FILE``: the event schema in force."""

from __future__ import annotations

import argparse
from pathlib import Path

from is21.ops.commands.base import Command
from is21.protocol.schema_store import SchemaError
from is21.schemas.settings import Settings


class Schema(Command):
    failures = ((SchemaError, 2),)  # a file that is not a schema, or rules to version anew

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("show", help="print the schema in force, as push takes it")
        push = sub.add_parser("push", help="validate and store a schema JSON file")
        push.add_argument("file", help="a schema JSON file (is21 schema show gives one)")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.producer import FrameProducer
        from is21.protocol.schema_store import read_schema_file

        producer = FrameProducer.from_settings(settings)
        if args.action == "show":
            print(producer.current_schema().model_dump_json(indent=2))
            return 0
        schema = producer.push_schema(read_schema_file(Path(args.file)))
        print(f"event schema {schema.version} stored; workers use it from their next frame")
        return 0
