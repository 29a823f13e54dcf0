"""SIGTERM (what `systemctl stop` sends) mid-flood: the worker finishes the frame in hand,
publishes it, gives back its cameras and exits 0 well inside systemd's stop timeout."""

from __future__ import annotations

import threading
import time
from typing import Any

import redis

from is21.producer import FrameProducer
from is21.schemas import keys
from tests.conftest import Fleet
from tests.helpers import flood, systemd_stop_timeout


def test_sigterm_mid_frame_publishes_releases_and_exits(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    cams = [f"term{i}" for i in range(4)]
    feeder = threading.Thread(target=flood, args=(producer, cams, 40, 0.02))
    feeder.start()
    deadline = time.monotonic() + 20
    while not client.zcard(keys.LEASES):  # some camera is in a worker's hand
        assert time.monotonic() < deadline
        time.sleep(0.01)
    feeder.join()
    started = time.monotonic()
    assert fleet.stop() == [0, 0]
    took = time.monotonic() - started
    # What systemd allows (TimeoutStopSec), with half of it to spare; that the stop was the
    # graceful one, not the give-up after STOP_GRACE, is what the state below shows.
    assert took < systemd_stop_timeout() / 2, took
    assert client.zcard(keys.LEASES) == 0  # every camera given back, reservations too
    for cam in cams:
        state: Any = client.hmget(keys.camera(cam), "claimed_seq", "published_seq", "holder")
        claimed, published, holder = state
        # The frame last taken into a hand was published before the worker left.
        assert claimed == published and holder is None, (cam, state)
    assert client.zcard(keys.WORKERS) == 0
