"""The locks of the dev environment and the image, made from pyproject.toml with uv.

Why a lock at all: pyproject.toml gives the package's users ranges, and a fresh install
of ranges takes whatever was released yesterday (redis-py 8.2 broke `mypy --strict` on
a machine where nothing else had changed). Development, CI and the image install exact
versions with hashes instead, and move forward only through `scripts/upgrade-deps`.

Why uv and not pip-tools: one resolution (`--universal`) gives a lock valid on x86_64
and on the boards' aarch64 and on every Python the package supports, where pip-compile
resolves for the machine it runs on; it resolves in seconds; and it does not reach into
pip's internals, which has broken pip-compile at pip releases. pip still installs the
lock (`--require-hashes`), so a machine needs nothing but Python to use it.

Usage (python3 scripts/deps.py ...; stdlib only, so it runs before any venv exists):
    check            exit 1, naming the fix, when pyproject.toml and a lock disagree
    lock [--upgrade] re-resolve both locks (keeping locked versions unless --upgrade)
    lowest FILE      write the lowest versions pyproject.toml's ranges admit, to test them
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_LOCK = ROOT / "requirements" / "dev.txt"
RUN_LOCK = ROOT / "requirements" / "run.txt"
INPUTS_MARK = "# inputs:"
FIX = (
    "scripts/lock-deps (re-lock, keeping the locked versions) or scripts/upgrade-deps "
    "(newest releases, then the whole suite)"
)


def inputs(dev: bool) -> list[str]:
    """What a lock is made from: the package's requirements and extras, its build backend,
    and pip.

    The build backend and pip are locked too, so that the editable install (built
    without isolation) and the installer itself are the lock's versions as well.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = list(project["project"]["dependencies"])
    for extra, reqs in project["project"]["optional-dependencies"].items():
        # rknn: only where its marker holds (the boards' aarch64); plots: an operator's
        # choice, not the service's (the dev lock has it, so the tests draw them).
        if dev or extra not in ("dev", "plots"):
            found += reqs
    found += project["build-system"]["requires"]
    found.append("pip")
    return sorted(" ".join(line.split()) for line in found)


def locked_inputs(lock: Path) -> list[str] | None:
    """The inputs a lock says it was made from (None: no such header, or no lock)."""
    if not lock.exists():
        return None
    lines = lock.read_text().splitlines()
    if INPUTS_MARK not in lines:
        return None
    found = []
    for line in lines[lines.index(INPUTS_MARK) + 1 :]:
        if not line.startswith("#   "):
            break
        found.append(line[4:])
    return sorted(found)


def check() -> int:
    stale = False
    for lock, dev in ((DEV_LOCK, True), (RUN_LOCK, False)):
        want, have = inputs(dev), locked_inputs(lock)
        name = lock.relative_to(ROOT)
        if have is None:
            print(f"{name} is missing or has no inputs header; run {FIX}", file=sys.stderr)
            stale = True
        elif want != have:
            for req in sorted(set(want) - set(have)):
                print(
                    f"pyproject.toml has {req!r}, which {name} was not made from", file=sys.stderr
                )
            for req in sorted(set(have) - set(want)):
                print(
                    f"{name} was made from {req!r}, which pyproject.toml no longer has",
                    file=sys.stderr,
                )
            stale = True
    if stale:
        print(f"the lock is stale: run {FIX}", file=sys.stderr)
        return 1
    return 0


def uv() -> str:
    """The uv the dev lock pins: .venv's, or installed from the lock's own lines for uv.

    The second way is for a stale lock on a fresh machine, where set-up refuses to make
    .venv until the lock is fixed.
    """
    path = ROOT / ".venv" / "bin" / "uv"
    if path.exists():
        return str(path)
    lines = DEV_LOCK.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("uv=="))
    end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
    tools = Path(tempfile.mkdtemp(prefix="is21-uv-"))
    (tools / "uv.txt").write_text("\n".join(lines[start : end + 1]) + "\n")
    subprocess.run([sys.executable, "-m", "venv", str(tools / "venv")], check=True)
    pip = [str(tools / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(tools / "uv.txt")], check=True)
    return str(tools / "venv" / "bin" / "uv")


def compile_lock(out: Path, reqs: list[str], title: str, extra_args: list[str]) -> None:
    header = [
        f"# {out.name}: exact versions and hashes for {title}.",
        "# Made by scripts/lock-deps or scripts/upgrade-deps; do not edit by hand.",
        INPUTS_MARK,
        *[f"#   {req}" for req in reqs],
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "requirements.in"
        source.write_text("\n".join(reqs) + "\n")
        body = Path(tmp) / "lock.txt"
        if out.exists():
            body.write_text(out.read_text())  # uv keeps what it finds there unless upgrading
        cmd = [uv(), "pip", "compile", str(source), "--quiet", "--universal",
               "--generate-hashes", "--python-version", "3.11", "--no-header",
               "--annotation-style", "line", "-o", str(body), *extra_args]  # fmt: skip
        subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "UV_NO_CONFIG": "1"})
        text = body.read_text().replace(f"-r {source}", "pyproject.toml")
    out.write_text("\n".join(header) + text)


def lock(upgrade: bool) -> None:
    """Both locks: dev first, then run within dev's versions, so the image runs what CI tested."""
    DEV_LOCK.parent.mkdir(exist_ok=True)
    dev_title = "development and CI (scripts/setup.sh)"
    compile_lock(DEV_LOCK, inputs(dev=True), dev_title, ["--upgrade"] if upgrade else [])
    run_title = "the image and the boards (Dockerfile)"
    compile_lock(RUN_LOCK, inputs(dev=False), run_title, ["--constraint", str(DEV_LOCK)])


def lowest(out: Path) -> None:
    """The package's requirements at their lower bounds, the tools at the dev lock's versions.

    What the ranges in pyproject.toml promise its users is tested on this (the README's
    "Upgrading" section); the tools are not part of that promise.
    """
    locked = {}
    for line in DEV_LOCK.read_text().splitlines():
        if line[:1].isalpha() and "==" in line:
            name, version = line.split(" ")[0].split("==")
            locked.setdefault(name, version)
    runtime = set(inputs(dev=False)) - {"pip"}
    reqs = []
    for req in inputs(dev=True):
        match = re.match(r"([\w.-]+)(\[[^\]]*\])?", req)
        assert match is not None, req
        name, extras = match.groups()
        keep = req in runtime and name != "setuptools"
        reqs.append(req if keep else f"{name}{extras or ''}=={locked[name.lower()]}")
    compile_lock(out, reqs, "testing the lower bounds", ["--resolution", "lowest-direct"])


def main(argv: list[str]) -> int:
    if argv == ["check"]:
        return check()
    if argv in (["lock"], ["lock", "--upgrade"]):
        lock(upgrade=len(argv) == 2)
        return 0
    if len(argv) == 2 and argv[0] == "lowest":
        lowest(Path(argv[1]).resolve())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
