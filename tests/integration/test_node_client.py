"""docs/protocol.md spoken from outside Python: the Node.js client of examples/node against
a real redis-server and real workers gives, photo by photo, the events `is21 detect` gives."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, SAMPLES, Fleet, run_is21

NODE_CLIENT = ROOT / "examples" / "node"


def detect_events(env: dict[str, str]) -> dict[str, tuple[str, list[str]]]:
    photos = sorted(str(p) for p in SAMPLES.glob("*.jpg"))
    out = run_is21("detect", "--json", *photos, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    return {
        line["file"].rsplit("/", 1)[-1]: (line["primary_event"], line["events"]) for line in lines
    }


def test_the_node_client_sees_what_is21_detect_sees(fleet: Fleet) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_CLIENT / "node_modules" / "redis").is_dir():
        pytest.fail("node and examples/node/node_modules are needed: run scripts/setup.sh")
    run = subprocess.run(
        [node, "submit.mjs", "--images", str(SAMPLES), "--cameras", "4", "--url", fleet.url],
        cwd=NODE_CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    seen = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(seen) == 16 and {s["camera_id"] for s in seen} == {f"node-cam-{i}" for i in range(4)}
    assert all(s["status"] == "ok" and s["frame_id"] for s in seen), seen
    expected = detect_events(fleet.env)
    assert {s["file"]: (s["primary_event"], s["events"]) for s in seen} == expected
    assert any(s["detections"] for s in seen)
