"""Redis at maxmemory (noeviction): the producer refuses frames while results still fit,
the worker keeps publishing for the frames stored, and retention brings Redis back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, Fleet, fleet_env, require_shared, run_is21
from tests.samples import photo

LIMIT = 24 * 2**20


@pytest.fixture
def small_redis() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(
        extra_args=("--maxmemory", str(LIMIT), "--maxmemory-policy", "noeviction")
    ) as server:
        yield server


def test_full_redis_refuses_frames_keeps_results_and_recovers(
    small_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    require_shared()
    url = small_redis.url
    settings = Settings(redis_url=url, model_dir=MODEL_DIR, fleet_cache=0.1)
    client = connect(url)
    fleet = Fleet(url, fleet_env(url), [], tmp_path)
    fleet.start("full0")
    fleet.wait_alive(client, 1)
    producer = FrameProducer(connect(url, timeout=1.0), settings)
    jpeg = photo("COCO_val2014_000000181586.jpg")  # ~170 KB
    cams = [f"full{i}" for i in range(12)]

    stored, reasons, slowest = [], set(), 0.0
    for i in range(400):  # 12 cameras x 30 frames kept x 170 KB would be ~60 MB
        started = time.monotonic()
        ticket = producer.submit(cams[i % len(cams)], jpeg)
        slowest = max(slowest, time.monotonic() - started)
        if ticket.fallback is None:
            stored.append(ticket)
        else:
            reasons.add((ticket.fallback.error or "").split(":")[0])
        time.sleep(0.002)
    memory: Any = client.info("memory")
    assert reasons == {"redis memory high"}, reasons
    # Each one counted, so that /metrics and is21 status show the camera server blind.
    assert int(client.hget(keys.COUNTERS, "fallback:memory_high") or 0) == 400 - len(stored)
    assert int(memory["used_memory"]) <= LIMIT
    assert slowest < 1.0

    # The worker goes on publishing for every camera's stored frames.
    for cam in cams:
        last = max((t for t in stored if t.camera_id == cam), key=lambda t: t.seq)
        result = producer.wait(last, timeout=60)
        assert result.status == "ok", result.error
    assert fleet.procs[0].poll() is None, fleet.logs()

    out = run_is21("retention", "--json", env={**fleet_env(url), "IS21_RETAIN_FRAMES": "0.5"})
    assert out.returncode == 0, out.stderr
    time.sleep(0.2)
    after = producer.submit(cams[0], jpeg)
    assert after.fallback is None, after.fallback
    assert producer.wait(after, timeout=30).status == "ok"
    assert fleet.stop() == [0]
    assert client.zcard(keys.LEASES) == 0
