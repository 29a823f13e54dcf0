"""A worker killed with SIGKILL mid-frame: its camera is served by the other worker, no
frame gets two results, its heartbeat lapses, and its RQ job ends in the failed registry
instead of showing as started for minutes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import Fleet
from tests.helpers import flood, results_of, wait_settled

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def started_job_of(client: redis.Redis, queue: str, worker: str) -> str | None:
    registry = StartedJobRegistry(queue, connection=client, serializer=JSONSerializer)
    for job_id in registry.get_job_ids():
        name: Any = client.hget(f"rq:job:{job_id}", "worker_name")
        if name and name.decode() == worker:
            return job_id
    return None


def test_sigkill_fails_the_rq_job_and_loses_no_frame(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis, settings: Settings
) -> None:
    cams = [f"kill{i}" for i in range(4)]
    feeder = threading.Thread(target=flood, args=(producer, cams, 80, 0.02))
    feeder.start()
    deadline = time.monotonic() + 20
    while (job_id := started_job_of(client, settings.queue, "w1")) is None:
        assert time.monotonic() < deadline, "w1 never started a dispatch job"
        time.sleep(0.05)
    fleet.procs[1].kill()
    killed_at = time.monotonic()
    feeder.join()

    failed = FailedJobRegistry(settings.queue, connection=client, serializer=JSONSerializer)
    heartbeat_gone_after = None
    while job_id not in failed.get_job_ids():
        if heartbeat_gone_after is None and not client.exists(keys.heartbeat("w1")):
            heartbeat_gone_after = time.monotonic() - killed_at
        assert time.monotonic() - killed_at < settings.heartbeat_ttl + 10, fleet.logs()
        time.sleep(0.2)
    failed_after = time.monotonic() - killed_at
    assert not client.exists(keys.heartbeat("w1"))
    assert started_job_of(client, settings.queue, "w1") is None

    wait_settled(client, cams, timeout=30)
    for cam in cams:
        seqs = [r.seq for r in results_of(client, cam)]
        assert seqs == sorted(set(seqs)), "a frame got two results or came out of order"
        assert seqs[-1] == 80
    assert fleet.procs[0].poll() is None
    print(f"heartbeat gone {heartbeat_gone_after} s, job failed {failed_after:.1f} s after kill")
