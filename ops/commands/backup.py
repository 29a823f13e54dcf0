"""``is21 backup DIR`` and ``is21 restore DIR``: what a board needs to serve again."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError


class Backup(Command):
    failures = ((ModelError, 2), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dir", help="the backup folder")
        parser.add_argument("--include", nargs="*", default=[], help="operator files to keep too")

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        from is21.ops.backup import backup_command

        args.command = self.name
        return backup_command(args, settings)


class Restore(Backup):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("dir", help="the backup folder")
