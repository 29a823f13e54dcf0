"""``is21``: the detection fleet's command (``is21 COMMAND --help`` for each)."""

from __future__ import annotations

import argparse
import sys

from is21.ops.commands import COMMANDS, load


def top_parser() -> argparse.ArgumentParser:
    width = max(map(len, COMMANDS))
    listing = "\n".join(f"  {name:<{width}}  {info.summary}" for name, info in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="is21",
        description="The detection fleet behind the is22 camera server: workers, the health "
        "endpoint, and the operator's tools. Settings come from IS21_* variables (README).",
        epilog=f"commands:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="let tracebacks through")
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help="one of those below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    top = top_parser().parse_args(sys.argv[1:] if argv is None else argv)
    command = load(top.command)  # imports that command's module only
    parser = argparse.ArgumentParser(
        prog=f"is21 {command.name}",
        description=command.summary,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    command.add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="let tracebacks through")
    args = parser.parse_args(top.args)
    args.debug = args.debug or top.debug
    from pydantic import ValidationError

    from is21.schemas.settings import Settings, describe

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"is21: invalid settings: {describe(exc)}", file=sys.stderr)
        return 2
    from is21.ops import logs

    logs.setup(settings.log_level)
    if command.service:
        from is21.ops.sentry import setup_sentry

        setup_sentry(command.name)
    return command.main(args, settings)


if __name__ == "__main__":
    sys.exit(main())
