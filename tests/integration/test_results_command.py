"""``is21 results CAMERA``: what RUNBOOK P2 asks an operator to read, a camera's recent
results and their errors, decoded from the msgpack that redis-cli prints as binary."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import redis

from is21.producer import FrameProducer
from is21.schemas import keys
from tests.conftest import ROOT, Fleet, fleet_env, run_is21
from tests.helpers import JPEG
from tests.samples import photo

GARBAGE = b"\xff\xd8\xff" + bytes(range(256)) * 40  # a JPEG header, then noise


def test_results_shows_a_cameras_results_errors_and_junk(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    good = producer.wait(producer.submit("porch", photo(JPEG)), timeout=20)
    bad = producer.wait(producer.submit("porch", GARBAGE), timeout=20)
    assert good.status == "ok" and bad.status == "error"
    client.xadd(keys.results("porch"), {"junk": "written by something else"})
    env = fleet_env(producer.settings.redis_url)

    shown = run_is21("results", "porch", env=env)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 3
    assert f"seq {good.seq} " in lines[0] and " ok " in lines[0]
    assert good.primary_event in lines[0] and good.detections[0].label in lines[0]
    assert f"seq {bad.seq} " in lines[1] and "error" in lines[1] and "ImageError" in lines[1]
    assert "not a result" in lines[2]

    errors = run_is21("results", "porch", "--errors", "--json", env=env)
    decoded = [json.loads(line) for line in errors.stdout.splitlines()]
    assert [d.get("status") for d in decoded] == ["error", None]
    assert decoded[0]["error"] == bad.error and decoded[0]["seq"] == bad.seq
    assert "problem" in decoded[1]

    last = run_is21("results", "porch", "-n", "1", "--errors", env=env)
    assert last.stdout.count("\n") == 1 and "not a result" in last.stdout


def test_results_of_an_unknown_or_invalid_camera_is_one_line(
    producer: FrameProducer, client: redis.Redis
) -> None:
    env = fleet_env(producer.settings.redis_url)
    client.sadd(keys.CAMERAS, "porch")
    unknown = run_is21("results", "porhc", env=env)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip() == "is21: no results for camera porhc; cameras: porch"
    invalid = run_is21("results", "a:b", env=env)
    assert invalid.returncode == 2 and "is not a camera id" in invalid.stderr
    assert "Traceback" not in invalid.stderr


def test_results_follow_prints_new_results_as_they_come(
    fleet: Fleet, producer: FrameProducer
) -> None:
    first = producer.wait(producer.submit("gate", photo(JPEG)), timeout=20)
    follower = subprocess.Popen(
        [sys.executable, "-m", "is21.ops", "results", "gate", "--follow"],
        cwd=ROOT,
        env=fleet_env(producer.settings.redis_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        assert f"seq {first.seq} " in follower.stdout.readline()
        second = producer.wait(producer.submit("gate", photo(JPEG)), timeout=20)
        assert f"seq {second.seq} " in follower.stdout.readline()
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            follower.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Seen twice in a loaded full run on 2026-12-06 and not explained (the process
            # went on reading until Redis stopped): a person presses Ctrl-C again.
            follower.send_signal(signal.SIGINT)
            follower.wait(timeout=10)
    assert follower.returncode == 130  # interrupted, as a person would: no traceback
