"""The camera server of a chaos run (ops/chaos.py), in a host of its own: 30 cameras
through the producer library with a ledger, until SIGTERM; then it waits for the fleet
to settle and writes the ledger's accounts as JSON.

    python -m is21.ops.chaos_camera IMAGES OUT.json [--cameras 30] [--fps 2]
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path

import redis

from is21.producer import FrameProducer
from is21.producer.ledger import Ledger
from is21.producer.replay import load_photos
from is21.schemas import keys
from is21.schemas.settings import Settings


def settle(producer: FrameProducer, timeout: float = 60) -> None:
    """Until nothing waits or is held: every frame has met its fate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not producer.client.zcard(keys.READY) and not producer.client.zcard(keys.LEASES):
                return
        except redis.RedisError:
            pass
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--cameras", type=int, default=30)
    parser.add_argument("--fps", type=float, default=2.0)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    settings = Settings()
    ledger = Ledger()
    producer = FrameProducer.from_url(settings.effective_redis_url, settings)
    producer.ledger = ledger
    photos = [jpeg for _name, jpeg in load_photos(Path(args.images))]
    cams = [f"cam{i:02d}" for i in range(args.cameras)]
    lost: set[str] = set()
    watch = FailoverWatch(producer)
    tick = 0
    while not stop.wait(1 / args.fps):
        for cam in cams:
            producer.submit(cam, photos[(tick + len(cam)) % len(photos)])
        tick += 1
        if (changed_at := watch.changed()) is not None:
            # The streams keep the last frames only: look for the failover's losses now,
            # while they still reach back past it.
            time.sleep(2)
            window = ledger.reconcile(producer.client, since=changed_at - 10)
            lost |= {fid for a in window.values() for fid in a.lost}
    settle(producer)
    accounts = ledger.reconcile(producer.client, lost=frozenset(lost))
    Path(args.out).write_text(json.dumps({cam: asdict(a) for cam, a in accounts.items()}))


class FailoverWatch:
    """Notices the master moving (a sentinel URL's pool knows its master's address)."""

    def __init__(self, producer: FrameProducer) -> None:
        self.pool = producer.client.connection_pool
        self.address = self._address()
        self.checked = time.monotonic()

    def _address(self) -> object:
        try:
            return getattr(self.pool, "get_master_address", lambda: None)()
        except redis.RedisError:
            return None

    def changed(self) -> float | None:
        """The wall time a new master was first seen, at most once a second."""
        if time.monotonic() - self.checked < 1:
            return None
        self.checked = time.monotonic()
        address = self._address()
        if address is None or address == self.address:
            return None
        self.address = address
        return time.time()


if __name__ == "__main__":
    main()
