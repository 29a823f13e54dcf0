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


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        ((), 2, "--images DIR is required"),
        (("--images", str(SAMPLES), "--bogus"), 2, "Unknown option '--bogus'"),
        (("--images", str(SAMPLES), "--cameras", "0"), 2, "--cameras must be at least 1"),
        (("--images", "/nonexistent/photos"), 2, "no such folder"),
        (("--images", str(SAMPLES), "--url", "not a url"), 2, "--url is not a URL"),
        # Nothing listens there: three tries, then one line, not a reconnect loop.
        (
            ("--images", str(SAMPLES), "--url", "unix:///nonexistent/redis.sock"),
            1,
            "cannot reach Redis at unix:///nonexistent/redis.sock",
        ),
    ],
)
def test_the_node_client_says_what_is_wrong_in_one_line(
    args: tuple[str, ...], code: int, says: str
) -> None:
    node = shutil.which("node")
    assert node is not None
    run = subprocess.run(
        [node, "submit.mjs", *args],
        cwd=NODE_CLIENT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == code and says in run.stderr, run.stderr
    assert "    at " not in run.stderr and "Error:" not in run.stderr  # no stack trace
