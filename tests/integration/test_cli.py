"""The is21 commands a user types, against the test's redis-server and real workers."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import redis

from is21.producer import FrameProducer, WaitTimeout
from is21.schemas import keys
from tests.conftest import SAMPLES, Fleet, run_is21
from tests.helpers import wait_until
from tests.samples import photo


def is21(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return run_is21(*args, env=fleet.env, timeout=120)


def test_submit_and_wait(fleet: Fleet) -> None:
    out = is21(
        fleet,
        "submit",
        "--camera",
        "door",
        "--request-id",
        "r-1",
        "--wait",
        "20",
        "--json",
        str(SAMPLES / "COCO_val2014_000000181013.jpg"),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["primary_event"] == "human" and result["request_id"] == "r-1"
    lines = [json.loads(line) for line in fleet.logs().splitlines() if line.startswith("{")]
    (line,) = [x for x in lines if x.get("request_id") == "r-1"]
    assert line["camera_id"] == "door" and line["primary_event"] == "human"
    assert line["processing_ms"] > 0 and line["level"] == "INFO" and "+" in line["timestamp"]


def test_submit_refuses_a_bad_camera_id(fleet: Fleet) -> None:
    out = is21(fleet, "submit", "--camera", "a:b", str(SAMPLES / "COCO_val2014_000000181013.jpg"))
    assert out.returncode == 2 and "camera id must match" in out.stderr


def test_replay(fleet: Fleet, client: redis.Redis) -> None:
    out = is21(fleet, "replay", str(SAMPLES), "--cameras", "3", "--fps", "4", "--seconds", "1.5")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert 12 <= report["submitted"] <= 21
    cameras: Any = client.smembers(keys.CAMERAS)
    assert sorted(m.decode() for m in cameras) == ["cam00", "cam01", "cam02"]


def test_frames_survive_the_last_worker_stopping(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    """The lost wake-up at its sharpest: the only worker leaves as a frame arrives.

    A worker stopped while dequeuing its first job loses that job; its lease runs out
    (IS21_JOB_QUEUED_TTL) before a new one is queued, so the frame must not expire first.
    """
    fleet = fleet_factory(1, IS21_MAX_FRAME_AGE="60")
    ticket = producer.submit("lone", photo("COCO_val2014_000000181586.jpg"))
    assert ticket.fallback is None
    assert fleet.stop() == [0], fleet.logs()
    fleet.start("late")
    fleet.wait_alive(client, 1)
    try:
        result = producer.wait(ticket, timeout=30)
    except WaitTimeout as exc:
        state = {
            k: client.zrange(k, 0, -1, withscores=True)
            for k in (keys.READY, keys.LEASES, keys.JOBS, keys.WORKERS)
        }
        raise AssertionError(
            f"{state}\n{client.hgetall(keys.camera('lone'))}\n"
            f"{client.lrange('rq:queue:is21', 0, -1)}\n{fleet.logs()}"
        ) from exc
    assert result.seq == ticket.seq


def test_a_lost_job_is_replaced_without_new_frames(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    """A job lease whose job will never run (its worker stopped as it dequeued it)."""
    now = time.time() * 1000
    for live in (keys.WORKERS, keys.ANSWERING):
        client.zadd(live, {"ghost-worker": now + 300})  # lets the frame in
    client.zadd(keys.JOBS, {"ghost": now + 2000})  # the lost job's lease
    ticket = producer.submit("orphan", photo("COCO_val2014_000000181586.jpg"))
    assert ticket.fallback is None
    time.sleep(0.4)
    fleet_factory(1)  # starts while the ghost job still counts: its ask for a job is refused
    # No further frame arrives; the worker's heartbeat must notice the lapsed lease.
    assert producer.wait(ticket, timeout=15).seq == ticket.seq


def test_demo_names_the_missing_redis_package() -> None:
    out = run_is21("demo", env={"PATH": "/nonexistent"}, timeout=60)
    assert out.returncode == 1
    assert "redis-server not found" in out.stderr and "apt-get install redis-server" in out.stderr


def test_unreachable_redis_is_a_clear_error() -> None:
    out = run_is21(
        "submit",
        "--camera",
        "a",
        str(SAMPLES / "COCO_val2014_000000181586.jpg"),
        env={"PATH": "/usr/bin:/bin", "IS21_REDIS_URL": "redis://:pw@127.0.0.1:1/0"},
        timeout=60,
    )
    assert out.returncode == 1
    assert "not submitted: redis unreachable" in out.stderr and ":pw@" not in out.stderr


def test_log_levels_say_whose_fault(fleet: Fleet, producer: FrameProducer) -> None:
    """A bad frame is the camera's: WARNING. (A detector that fails is ours: ERROR, in
    tests/faults/test_detector_hang.py's throwing model.)"""
    result = producer.wait(producer.submit("bad-cam", b"\xff\xd8\xff" + bytes(4096)), 20)
    assert result.status == "error"

    def logged() -> list[dict[str, Any]]:  # the line follows the result out
        lines = [json.loads(x) for x in fleet.logs().splitlines() if x.startswith("{")]
        return [x for x in lines if x.get("camera_id") == "bad-cam"]

    (line,) = wait_until(logged, what="the worker's line about the bad frame")
    assert line["level"] == "WARNING" and "ImageError" in line["error"]
