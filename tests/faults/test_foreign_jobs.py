"""A job someone else put in the fleet's queue is refused, never run: no pickle, no
arbitrary functions. The worker goes on serving frames."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from rq import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import DefaultSerializer, JSONSerializer

from is21.producer import FrameProducer
from is21.schemas.settings import Settings
from tests.conftest import Fleet
from tests.samples import photo


def test_a_pickled_job_is_refused_and_runs_nothing(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    fleet = fleet_factory(1, IS21_JOB_BUDGET="1")  # dispatch jobs end often: RQ dequeues
    marker = tmp_path / "ran"
    # RQ's default serializer is pickle: unpickling this alone would create the file.
    pickled = Queue(settings.queue, connection=client, serializer=DefaultSerializer)
    job = pickled.enqueue(os.mkdir, str(marker))
    # A JSON job naming a function that is not the fleet's dispatch job.
    foreign = Queue(settings.queue, connection=client, serializer=JSONSerializer).enqueue(
        "os.mkdir", str(marker) + "-json"
    )
    deadline = time.monotonic() + 20
    failed = FailedJobRegistry(settings.queue, connection=client, serializer=JSONSerializer)
    while time.monotonic() < deadline:
        ids: Any = failed.get_job_ids()
        if job.id in ids and foreign.id in ids:
            break
        time.sleep(0.1)
    assert not marker.exists() and not Path(str(marker) + "-json").exists()
    assert job.id in failed.get_job_ids() and foreign.id in failed.get_job_ids()
    assert all(p.poll() is None for p in fleet.procs), fleet.logs()
    result = producer.wait(producer.submit("after-foreign", photo("COCO_val2014_000000181586.jpg")))
    assert result.status == "ok"
