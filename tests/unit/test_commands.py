"""The is21 command's registry: every subcommand is one module named in one line of
ops/commands/__init__.py, imported only when it runs."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from is21.ops.commands import COMMANDS, load
from is21.ops.commands.base import Command


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_loads_and_parses_its_help(name: str) -> None:
    command = load(name)
    assert isinstance(command, Command) and command.summary == COMMANDS[name].summary
    parser = argparse.ArgumentParser(prog=f"is21 {name}")
    command.add_arguments(parser)
    assert parser.format_help().startswith(f"usage: is21 {name}")


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from is21.ops.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
        "    main(['--help'])\n"
        "loaded = [m for m in sys.modules if m.startswith('is21.ops.commands.')]\n"
        "print(out.getvalue()); print('LOADED', loaded, 'REDIS', 'redis' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED ['is21.ops.commands.base'] REDIS False" in done.stdout, done.stdout
    for name, info in COMMANDS.items():
        assert f"{name}" in done.stdout and info.summary in done.stdout


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from is21.ops.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["frobnicate"])
    assert stopped.value.code == 2 and "invalid choice" in capsys.readouterr().err
