"""The dev environment is the lock's, and a lock that no longer matches pyproject.toml
stops the test command before anything is installed, naming the fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

DEV_LOCK = ROOT / "requirements" / "dev.txt"


def locked_versions(lock: Path) -> dict[str, str]:
    """The lock's pins that apply to this interpreter and machine."""
    pins = {}
    for line in lock.read_text().splitlines():
        if not line[:1].isalnum():
            continue
        requirement, _, marker = line.rstrip(" \\").partition(" ; ")
        name, version = requirement.strip().split("==")
        if not marker or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def test_the_venv_holds_exactly_the_locked_versions() -> None:
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        import pytest

        pytest.skip("not run from the dev .venv (scripts/test-lowest runs other versions)")
    installed = {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if canonicalize_name(d.metadata["Name"]) != "is21-fleet"
    }
    assert installed == locked_versions(DEV_LOCK)


def test_the_checkout_s_locks_match_pyproject() -> None:
    done = subprocess.run(
        [sys.executable, ROOT / "scripts" / "deps.py", "check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def copy_of_the_checkout(dest: Path) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file() and not (ROOT / name).is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def test_a_dependency_added_without_relocking_stops_the_test_command(tmp_path: Path) -> None:
    tree = copy_of_the_checkout(tmp_path / "checkout")
    pyproject = tree / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('"tomli-w>=1.0",', '"tomli-w>=1.0",\n    "attrs>=23",', 1))
    assert pyproject.read_text() != text

    started = time.monotonic()
    done = subprocess.run(
        ["bash", tree / "scripts" / "test"], cwd=tree, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 60
    assert done.returncode != 0
    added = "pyproject.toml has 'attrs>=23', which requirements/dev.txt was not made from"
    assert added in done.stderr
    assert "scripts/lock-deps" in done.stderr and "requirements/dev.txt" in done.stderr
    assert not (tree / ".venv" / "bin").exists()  # stopped before installing anything
