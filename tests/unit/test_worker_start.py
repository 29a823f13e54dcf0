"""The worker is RQ's SimpleWorker through its public methods only, and a stop requested
while it announces itself ends RQ's loop cleanly."""

from __future__ import annotations

import signal
from types import SimpleNamespace
from typing import Any

import fakeredis
from rq import SimpleWorker
from rq.exceptions import StopRequested

from is21.workers.worker import FleetWorker


def test_the_worker_overrides_no_private_rq_method() -> None:
    """A private method is RQ's to change in any release; the worker is wired in
    workers/start.py build_worker instead (issue 29)."""
    overridden = [
        name
        for name, value in vars(FleetWorker).items()
        if callable(value) and hasattr(SimpleWorker, name) and not name.startswith("__")
    ]
    assert overridden, "FleetWorker should override RQ's public hooks"
    assert [name for name in overridden if name.startswith("_")] == []


def test_a_stop_requested_while_announcing_ends_the_loop_cleanly() -> None:
    """RQ's SIGTERM handler raises StopRequested when the worker is idle, and only RQ's
    loop catches it: raised while the heartbeat starts, it once exited the worker 1
    without its goodbye (seen in CI, test_frames_survive_the_last_worker_stopping). The
    announce now runs inside the loop, so the loop stops and says goodbye."""

    def interrupted() -> None:
        raise StopRequested()

    connection = fakeredis.FakeRedis()
    worker = FleetWorker(["is21"], connection=connection, name="w0")
    engine: Any = SimpleNamespace(heartbeat=SimpleNamespace(start=interrupted, ttl_ms=6000))
    worker.engine = engine
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        assert worker.work(burst=True) is False  # returned, nothing raised
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert connection.hexists(worker.key, "death")  # RQ's goodbye: rq info drops it
