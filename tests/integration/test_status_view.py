"""`is21 status` at a glance (issue 30): 30 real cameras at 1 fps, two real workers; the
text fits 80x24 with the problems first; rates read what is offered; the schema version
is /healthz's; --json carries the same facts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import redis

from is21.producer import FrameProducer
from tests.conftest import ROOT, SAMPLES, Fleet, Health, fleet_env, run_is21
from tests.helpers import JPEG, wait_until
from tests.samples import photo


def test_thirty_cameras_fit_80x24_with_their_rates(
    fleet: Fleet,
    health_factory: Callable[..., Health],
    producer: FrameProducer,
    client: redis.Redis,
) -> None:
    env = fleet_env(producer.settings.redis_url)
    producer.wait(producer.submit("quiet", photo(JPEG)), timeout=20)  # then nothing more
    args = ["replay", str(SAMPLES), "--cameras", "30", "--fps", "1", "--seconds", "40"]
    replay = subprocess.Popen(
        [sys.executable, "-m", "is21.ops", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: client.scard("is21:cameras") == 31, what="31 cameras")
        wait_until(
            lambda: all(client.xlen(f"is21:results:cam{i:02d}") >= 12 for i in range(30)),
            timeout=40,
            what="12 s of results",
        )
        shown = run_is21("status", "--once", env={**env, "COLUMNS": "80", "LINES": "24"})
        facts = json.loads(run_is21("status", "--json", env=env).stdout)
    finally:
        replay.terminate()
        replay.wait(timeout=10)
    print(shown.stdout)  # the screenshot, in the test's output
    lines = shown.stdout.rstrip("\n").split("\n")
    assert shown.returncode == 0 and len(lines) <= 23 and max(map(len, lines)) <= 80
    assert lines[0].startswith("is21 status  20") and lines[0].count("Z") >= 1
    health_version = health_factory().json("/healthz")[1]["schema_version"]
    assert f"schema {health_version} " in lines[0] and facts["schema_version"] == health_version
    # The quiet camera (no frame for over 10 s) is in the banner and first in the table.
    assert any(line.startswith("! camera quiet: no frame for ") for line in lines)
    camera_rows = [line for line in lines if line.startswith(("quiet ", "cam0", "cam1", "cam2"))]
    assert camera_rows[0].startswith("quiet ")
    assert "more cameras: in " in shown.stdout
    # Rates: each camera offers 1 frame a second; the fleet keeps up.
    cams = {c["camera_id"]: c for c in facts["cameras"] if c["camera_id"].startswith("cam")}
    assert len(cams) == 30
    fps_in = sorted(c["fps_in"] for c in cams.values())
    fps_out = sorted(c["fps_out"] for c in cams.values())
    assert 0.5 <= fps_in[15] <= 1.5 and 0.7 <= fps_out[15] <= 1.3, (fps_in, fps_out)
    workers = [w for w in facts["workers"] if w["alive"]]
    total = sum(w["fps"] for w in workers)
    assert 20 <= total <= 40, workers  # 30 frames a second between them, not 0 or double
    assert all(c["last_frame_age_s"] < 3 for c in cams.values())
