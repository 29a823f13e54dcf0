"""The camera server of a chaos run (lab/chaos.py), in a host of its own: 30 cameras
through the producer library with a ledger, until SIGTERM; then it waits for the fleet
to settle and writes the ledger's accounts as JSON, with each camera's longest wait for
a result and the results per minute, per worker.

It reads the results as they come, as a camera server does: the results streams keep
the last ``IS21_RESULTS_MAXLEN`` per camera, so a long run's first results are gone from
Redis by its end, and a ledger reconciled from the streams alone would count those
frames as superseded (the first 30-minute run did: 31 % processed instead of 96 %).

    python -m is21.lab.chaos_camera IMAGES OUT.json [--cameras 30] [--fps 2]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import redis

from is21.producer import FrameProducer
from is21.producer.ledger import Account, Ledger
from is21.producer.reader import ResultsReader
from is21.producer.replay import load_photos
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings

MINUTE = 60.0


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
    watch = FailoverWatch(producer, ledger)
    follower = Follower(producer, cams, ledger)
    follower.start()
    tick = 0
    fallbacks: Counter[int] = Counter()  # per second since the start: answered no_event
    while not stop.wait(1 / args.fps):
        for cam in cams:
            ticket = producer.submit(cam, photos[(tick + len(cam)) % len(photos)])
            if ticket.fallback is not None:
                fallbacks[int(time.time() - follower.started)] += 1
        tick += 1
        watch.check()
    settle(producer)
    follower.finish()
    accounts = retried(lambda: ledger.reconcile(producer.client, lost=frozenset(watch.lost)))
    report = {
        "accounts": {cam: asdict(a) for cam, a in accounts.items()},
        "gaps": follower.gaps,
        "timeline": {
            "start": follower.started,
            "results": follower.seconds,
            "fallbacks": fallbacks,
        },
        "minutes": [
            {
                "start": follower.started + i * MINUTE,
                "seconds": min(MINUTE, follower.ended - follower.started - i * MINUTE),
                "workers": dict(follower.minutes[i]),
            }
            for i in range(len(follower.minutes))
        ],
    }
    Path(args.out).write_text(json.dumps(report))


class Follower(threading.Thread):
    """Reads every camera's results as they are published: tells the ledger, keeps each
    camera's longest wait between two results (start, end) and counts the results of
    each minute by worker. Redis errors (a failover, a cut) are waited out: the reader
    keeps its place per camera and goes on from there."""

    def __init__(self, producer: FrameProducer, cameras: list[str], ledger: Ledger) -> None:
        super().__init__(daemon=True)
        self.reader = ResultsReader(producer.client)
        self.reader.follow(cameras, "0-0")
        self.ledger = ledger
        self.last: dict[str, float] = {}
        self.gaps: dict[str, tuple[float, float]] = {}
        self.started = self.ended = time.time()
        self.minutes: list[Counter[str]] = []  # from the start
        self.seconds: Counter[int] = Counter()  # results per second since the start
        self.done = threading.Event()

    def run(self) -> None:
        while True:
            try:
                batches = self.reader.read(block_ms=500)
            except redis.RedisError:
                time.sleep(0.2)
                continue
            for cam, results in batches:
                for result in results:
                    self.served(cam, result)
            if self.done.is_set() and not batches:
                return

    def served(self, camera: str, result: Result) -> None:
        self.ledger.answer(result)
        at = result.published_at.timestamp() if result.published_at else time.time()
        before = self.last.get(camera)
        gap = self.gaps.get(camera)
        if before is not None and (gap is None or at - before > gap[1] - gap[0]):
            self.gaps[camera] = (before, at)
        self.last[camera] = max(at, before or at)
        self.ended = max(self.ended, at)
        self.seconds[max(0, int(at - self.started))] += 1
        minute = max(0, int((at - self.started) // MINUTE))
        while len(self.minutes) <= minute:
            self.minutes.append(Counter())
        self.minutes[minute][result.worker or "?"] += 1

    def finish(self) -> None:
        """Read what is left, then stop."""
        self.done.set()
        self.join(timeout=30)


def retried(reconcile: Callable[[], dict[str, Account]], timeout: float = 60) -> dict[str, Account]:
    """The final reconciliation, through a failover still under way."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return reconcile()
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class FailoverWatch:
    """Notices the master moving (a sentinel URL's pool knows its master's address), and
    looks for the frames lost in it a few seconds later, while the capped streams still
    reach back past it. Between the frames it submits, so the cameras are never held up;
    a look that meets Redis failing over again is tried again at the next one."""

    DELAY_S = 2.0  # the fleet serves what the new master holds before the look
    BEFORE_S = 10.0  # how far before the change the look reaches

    def __init__(self, producer: FrameProducer, ledger: Ledger) -> None:
        self.client, self.ledger = producer.client, ledger
        self.pool = producer.client.connection_pool
        self.address = self._address()
        self.checked = time.monotonic()
        self.due: list[tuple[float, float]] = []  # (monotonic time to look, wall time since)
        self.lost: set[tuple[str, str]] = set()  # (camera, frame id)

    def check(self) -> None:
        if (changed_at := self.changed()) is not None:
            self.due.append((time.monotonic() + self.DELAY_S, changed_at - self.BEFORE_S))
        for look in [d for d in self.due if d[0] <= time.monotonic()]:
            try:
                window = self.ledger.reconcile(self.client, since=look[1])
            except redis.RedisError as exc:
                print(f"looking for lost frames: {exc}; again at the next frame", file=sys.stderr)
                return
            self.due.remove(look)
            self.lost |= {(cam, fid) for cam, a in window.items() for fid in a.lost}

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
