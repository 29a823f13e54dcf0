"""Redis restarts under load: nothing crashes, results resume, rq info still knows the fleet.

The restarted redis-server keeps nothing (no persistence, as in the shipped config), so
this is the hard case: every queue, lease, heartbeat and RQ registration is gone, and the
fleet has to rebuild all of it by itself.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas import keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, Fleet, fleet_env, require_shared
from tests.helpers import wait_until
from tests.samples import photo

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)

CAMERAS = [f"restart-{i}" for i in range(8)]


class Replay(threading.Thread):
    """8 cameras at 4 fps each; records every submit's outcome and duration."""

    def __init__(self, producer: FrameProducer, jpeg: bytes) -> None:
        super().__init__(daemon=True)
        self.producer, self.jpeg = producer, jpeg
        self.stop = threading.Event()
        self.submits: list[tuple[float, float, str]] = []  # (at, seconds, status)
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.wait(0.25):
            for cam in CAMERAS:
                started = time.monotonic()
                try:
                    ticket = self.producer.submit(cam, self.jpeg)
                except BaseException as exc:  # the test fails on any
                    self.errors.append(exc)
                    continue
                status = "fallback" if ticket.fallback is not None else "stored"
                self.submits.append((started, time.monotonic() - started, status))


def results_since(client: redis.Redis, after: float) -> int:
    """Results published (by the stream id's clock) after ``after`` (epoch seconds)."""
    start = f"{int(after * 1000)}-0"
    total = 0
    for cam in CAMERAS:
        entries: Any = client.xrange(keys.results(cam), start, "+")
        total += sum(1 for _id, f in entries if f.get(b"status") == b"ok")
    return total


def rq_workers(url: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "rq.cli", "info", "-u", url, "--only-workers"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).parents[2],
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_fleet_rides_out_a_redis_restart(own_redis: EmbeddedRedis, tmp_path: Path) -> None:
    require_shared()
    settings = Settings(redis_url=own_redis.url, model_dir=MODEL_DIR, redis_timeout=0.5)
    client = connect(own_redis.url)
    fleet = Fleet(own_redis.url, fleet_env(own_redis.url), [], tmp_path)
    for i in range(2):
        fleet.start(f"r{i}")
    fleet.wait_alive(client, 2)
    replay = Replay(
        FrameProducer(connect(own_redis.url, timeout=0.5), settings),
        photo("COCO_val2014_000000181586.jpg"),
    )
    replay.start()
    try:
        started = time.time()
        wait_until(lambda: results_since(client, started) > 0, what="results before")
        before = rq_workers(own_redis.url)

        assert own_redis.process is not None
        own_redis.process.kill()  # a crash: no goodbye to anyone
        own_redis.process.wait()
        down_at = time.monotonic()
        time.sleep(3)
        own_redis.start()
        back_at, back_epoch = time.monotonic(), time.time()

        # Results resume within 10 s of Redis being back.
        deadline = back_at + 10
        while results_since(client, back_epoch) == 0:
            assert time.monotonic() < deadline, fleet.logs()
            time.sleep(0.2)
        resumed = time.monotonic() - back_at

        # RQ's registry has both workers again (their heartbeat re-registers them).
        def listed() -> str:
            out = rq_workers(own_redis.url)
            return out if "r0" in out and "r1" in out else ""

        after = wait_until(listed, what="rq info listing both workers again")
    finally:
        replay.stop.set()
        replay.join(timeout=10)

    assert not replay.errors, replay.errors[:3]
    while_down = [(d, s) for at, d, s in replay.submits if down_at + 0.1 < at < back_at - 0.1]
    assert while_down and all(s == "fallback" for _d, s in while_down)
    # Each submit while Redis is down returns within its timeout (0.5 s), plus slack.
    assert max(d for d, _s in while_down) < 1.5, max(d for d, _s in while_down)
    assert all(p.poll() is None for p in fleet.procs), fleet.logs()
    for name in ("r0", "r1"):
        assert name in before and name in after, (before, after)
    assert fleet.stop() == [0, 0]
    print(f"results resumed {resumed:.1f} s after Redis came back")


def test_the_pushed_schema_survives_a_redis_that_restarts_empty(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """The compose file runs Redis without persistence: the schema in force is kept on
    disk by the workers and put back within a heartbeat."""
    require_shared()
    state = tmp_path / "state"
    state.mkdir()
    env = fleet_env(own_redis.url, IS21_STATE_DIR=str(state), IS21_HEARTBEAT_INTERVAL="0.5")
    fleet = Fleet(own_redis.url, env, [], tmp_path)
    fleet.start("keeper")
    client = connect(own_redis.url)
    fleet.wait_alive(client, 1)
    settings = Settings(redis_url=own_redis.url, model_dir=MODEL_DIR)
    rules = {**DEFAULT_SCHEMA.model_dump(), "version": "2026-12-02.9"}
    rules["events"]["animal"]["min_score"] = 0.99  # the cat at 0.76 is no event any more
    FrameProducer(client, settings).push_schema(rules)
    wait_until(
        lambda: (
            (state / "schema.json").exists()
            and b"2026-12-02.9" in (state / "schema.json").read_bytes()
        ),
        what="the schema on disk",
    )
    try:
        assert own_redis.process is not None
        own_redis.process.kill()
        own_redis.process.wait()
        own_redis.start()  # empty
        wait_until(
            lambda: client.hget(keys.SCHEMA, "version") == b"2026-12-02.9",
            what="the schema back in Redis",
        )
        producer = FrameProducer(connect(own_redis.url), settings)
        wait_until(producer.fleet_available, what="the worker back")
        result = producer.wait(producer.submit("cat", photo("COCO_val2014_000000181586.jpg")), 20)
        assert (result.schema_version, result.primary_event) == ("2026-12-02.9", "no_event")
    finally:
        assert fleet.stop() == [0]
