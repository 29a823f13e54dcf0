"""What every subcommand is: its arguments, what it does, and the failures it expects.

A failure a command expects (a bad model, Redis out of reach, a file not found) is its
own business: named in ``failures`` with the exit code it means, and reported in one
line (on stderr for a person; in the JSON log for a service under systemd), never as a
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from is21.schemas.settings import Settings

log = logging.getLogger("is21.ops.cli")


class Command(ABC):
    service = False  # runs under systemd and logs JSON lines; the others talk to a person
    # Exceptions the command expects, most specific first, and the exit code each means.
    failures: tuple[tuple[type[BaseException], int], ...] = ()

    def __init__(self, name: str, summary: str) -> None:
        self.name, self.summary = name, summary

    @abstractmethod
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The command's own arguments and options."""

    @abstractmethod
    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        """Do it; the exit code."""

    def main(self, args: argparse.Namespace, settings: Settings) -> int:
        try:
            return self.run(args, settings)
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            for kind, code in self.failures:
                if isinstance(exc, kind):
                    self.report(str(exc))
                    return code
            import redis  # here: `is21 --help` need not load it

            if isinstance(exc, redis.ConnectionError):
                self.report(f"cannot reach Redis ({exc}); check IS21_REDIS_URL")
                return 1
            raise

    def report(self, message: str) -> None:
        if self.service:  # the journal's JSON lines say why it stopped
            log.error("%s did not start: %s", self.name, message)
        else:
            print(f"is21: {message}", file=sys.stderr)
