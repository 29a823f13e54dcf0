"""A Python integrator's `pip install`, the way the image does it (requirements/run.txt,
then the wheel without its dependencies): the wheel adds the package `is21` and no other
top-level module, and carries everything it reads at run time (the manifest, the server
functions), so it works far from this source tree on the locked versions."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import MODEL_DIR, ROOT, SAMPLES, require_shared
from tests.samples import expected_primary

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)

CAT = "COCO_val2014_000000181586.jpg"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installs_is21_alone_and_runs_from_anywhere(tmp_path: Path) -> None:
    require_shared()
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path, ROOT, cwd=tmp_path)
    (wheel,) = tmp_path.glob("is21_fleet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = "-".join(wheel.name.split("-")[:2]) + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"is21", dist_info}
    assert {"is21/models/manifest.toml", "is21/protocol/register.lua"} <= set(names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    lock = ROOT / "requirements" / "run.txt"
    pip = (venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps")
    run(*pip, "--require-hashes", "-r", lock, cwd=tmp_path)
    run(*pip, wheel, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "check", cwd=tmp_path)
    site = next((venv / "lib").glob("python3*/site-packages"))
    ours = {"is21", "producer", "workers", "schemas", "ops", "models", "protocol"}
    assert {p.name for p in site.iterdir()} & ours == {"is21"}

    away = tmp_path / "elsewhere"  # no source tree in sight
    away.mkdir()
    env = {"PATH": "/usr/bin:/bin", "IS21_MODEL_DIR": str(MODEL_DIR)}
    out = run(venv / "bin" / "is21", "detect", "--json", SAMPLES / CAT, cwd=away, env=env)
    assert json.loads(out)["primary_event"] == expected_primary(CAT)
    code = "import is21.producer as p, is21; print(p.FrameProducer.__name__, is21.__file__)"
    printed = run(venv / "bin" / "python", "-c", code, cwd=away).split()
    assert printed[0] == "FrameProducer" and printed[1].startswith(str(site))
