"""What every subcommand is: its arguments, what it does, and the failures it expects.

No traceback reaches a user. A failure a command expects (a bad model, a file not found)
is named in ``failures`` with the exit code it means; Redis, Prometheus or a port out of
reach, a bad setting, are explained here for every command; each is one line (on stderr
for a person; in the JSON log for a service under systemd). Exit 2: the input was wrong
(argparse's usage errors too); 1: it could not be done. ``--debug`` or ``IS21_DEBUG=1``
lets the traceback through.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from is21.schemas.settings import Settings

log = logging.getLogger("is21.ops.cli")

# The photos `--images` defaults to: ../shared/samples/coco beside the checkout, found from
# this file rather than the current directory (`is21 demo` works from any folder).
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "coco"


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
            if getattr(args, "debug", False) or os.environ.get("IS21_DEBUG") == "1":
                raise
            code, message = self.explain(exc)
            self.report(message)
            return code

    def explain(self, exc: Exception) -> tuple[int, str]:
        """The exit code and one line for a failure; imports only what it meets."""
        for kind, code in self.failures:
            if isinstance(exc, kind):
                return code, str(exc)
        import redis
        from pydantic import ValidationError

        from is21.schemas.codec import explain

        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            return 1, f"cannot reach Redis ({exc}); check IS21_REDIS_URL"
        if isinstance(exc, redis.RedisError):
            return 1, f"Redis refused: {exc}"
        if isinstance(exc, ValidationError):
            return 2, explain(exc)
        if isinstance(exc, OSError):
            return 1, str(exc)
        return 1, (
            f"{type(exc).__name__}: {exc} (unexpected: `is21 --debug {self.name} ...` shows "
            "where; please report it)"
        )

    def report(self, message: str) -> None:
        if self.service:  # the journal's JSON lines say why it stopped
            log.error("%s did not start: %s", self.name, message)
        else:
            print(f"is21: {message}", file=sys.stderr)


def count(text: str) -> int:
    """An argparse type: a whole number of at least 1 (cameras, workers, repeats)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def rate(text: str) -> float:
    """An argparse type: a number above 0 (frames per second, seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value
