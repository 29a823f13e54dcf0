"""SIGTERM in the moment between RQ installing its handlers and entering its loop."""

from __future__ import annotations

import signal
from types import SimpleNamespace
from typing import Any

import fakeredis
from rq.exceptions import StopRequested

from is21.workers.worker import FleetWorker


def test_a_stop_requested_before_the_loop_is_left_to_the_loop_not_raised() -> None:
    """RQ's handler raises StopRequested when the worker is idle, and only RQ's loop
    catches it: raised while the heartbeat starts, it exited the worker 1 without its
    goodbye (seen once in CI, test_frames_survive_the_last_worker_stopping)."""

    def interrupted() -> None:
        raise StopRequested()

    worker = FleetWorker(["is21"], connection=fakeredis.FakeRedis())
    engine: Any = SimpleNamespace(
        reloader=None, heartbeat=SimpleNamespace(start=interrupted), on_core_failed=None
    )
    worker.engine = engine
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        worker._install_signal_handlers()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert worker._stop_requested
