"""Operator mistakes and bad moments around a worker's start and stop."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq import Worker

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas import keys
from tests.conftest import Fleet, fleet_env, require_shared
from tests.helpers import JPEG, photo, systemd_stop_timeout, wait_until

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_a_second_worker_under_a_live_ones_name_leaves_its_liveness_alone(
    fleet_factory: Callable[..., Fleet], client: redis.Redis
) -> None:
    """RQ refuses the duplicate (once it has seen the live one beat); its clean-up must
    not delete the live worker's heartbeat (a beat every 10 s here: the check comes right
    after the duplicate leaves, well before the next beat could restore it)."""
    fleet = fleet_factory(1, IS21_HEARTBEAT_INTERVAL="10", IS21_HEARTBEAT_TTL="60")
    duplicate = fleet.start("w0")
    assert duplicate.wait(timeout=60) == 1
    logs = fleet.logs()
    assert "a live worker is already named w0: two workers were given the same" in logs
    assert "Traceback" not in logs
    assert client.exists(keys.heartbeat("w0"))
    assert client.zscore(keys.WORKERS, "w0") is not None


def test_a_worker_killed_without_a_goodbye_gets_its_name_back_within_the_heartbeat_ttl(
    fleet_factory: Callable[..., Fleet], client: redis.Redis, producer: FrameProducer
) -> None:
    """SIGKILL leaves RQ's registration without a death for 8 minutes, and RQ refuses the
    name meanwhile; systemd restarts the worker under that name at once. Its heartbeat
    expires within its TTL, and then the new worker takes the name and serves."""
    fleet = fleet_factory(1, IS21_HEARTBEAT_INTERVAL="0.5", IS21_HEARTBEAT_TTL="3")
    (killed,) = fleet.procs
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    fleet.procs.remove(killed)
    started = time.monotonic()
    again = fleet.start("w0")
    wait_until(lambda: _rq_knows(client, "w0", again.pid), timeout=60, what="w0 back in RQ")
    fleet.wait_alive(client, 1)
    took = time.monotonic() - started
    ticket = producer.submit("cam-back", photo(JPEG))
    assert producer.wait(ticket, timeout=30).status == "ok", fleet.logs()
    assert again.poll() is None and "taking its name" in fleet.logs()
    print(f"name taken back {took:.1f} s after the restart (heartbeat TTL 3 s)")


def _rq_knows(client: redis.Redis, name: str, pid: int) -> bool:
    return any(w.name == name and w.pid == pid for w in Worker.all(connection=client))


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
    limit = systemd_stop_timeout() / 2  # systemd's, with half to spare on a busy machine
    assert elapsed < limit, f"exited {elapsed:.1f} s after SIGTERM\n{fleet.logs()}"
