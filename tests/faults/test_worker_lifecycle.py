"""Operator mistakes and bad moments around a worker's start and stop."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.protocol.connection import connect
from is21.schemas import keys
from tests.conftest import Fleet, fleet_env, require_shared


def test_a_second_worker_under_a_live_ones_name_leaves_its_liveness_alone(
    fleet_factory: Callable[..., Fleet], client: redis.Redis
) -> None:
    """RQ refuses the duplicate; its clean-up must not delete the live worker's heartbeat
    (a beat every 30 s here, so nothing restores it during the test)."""
    fleet = fleet_factory(1, IS21_HEARTBEAT_INTERVAL="30", IS21_HEARTBEAT_TTL="60")
    duplicate = fleet.start("w0")
    assert duplicate.wait(timeout=60) != 0
    assert "exists an active worker named" in fleet.logs()
    assert client.exists(keys.heartbeat("w0"))
    assert client.zscore(keys.WORKERS, "w0") is not None


@pytest.mark.parametrize("outage", ["paused", "gone"])
def test_sigterm_while_redis_is_unreachable_exits_within_seconds(
    own_redis: EmbeddedRedis, tmp_path: Path, outage: str
) -> None:
    require_shared()
    fleet = Fleet(own_redis.url, fleet_env(own_redis.url), [], tmp_path)
    (worker,) = [fleet.start("lonely")]
    fleet.wait_alive(connect(own_redis.url), 1)
    assert own_redis.process is not None
    pid = own_redis.process.pid
    if outage == "paused":
        os.kill(pid, signal.SIGSTOP)
    else:
        own_redis.stop()
    try:
        time.sleep(1.0)  # let the worker meet the outage first
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if outage == "paused":
            os.kill(pid, signal.SIGCONT)
        fleet.stop()
    assert code == 0, fleet.logs()
    assert elapsed < 8, f"exited {elapsed:.1f} s after SIGTERM\n{fleet.logs()}"
