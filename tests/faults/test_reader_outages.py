"""The camera server's readers ride through a Redis restart and a Sentinel failover
(issue 30): `results()` and `events()` keep their positions and reconnect by themselves,
yield every result the Redis that answers holds, none twice, and raise FleetUnreachable
only past their bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from is21.lab.sentinel_cluster import SentinelCluster
from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FleetUnreachable, FrameProducer
from is21.producer.outage import RideOut
from is21.protocol.connection import connect
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import ClaimScripts
from tests.helpers import play_a_worker, serve_by_hand, wait_until

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


class Drain(threading.Thread):
    """Iterates a reader in the background, keeping what it yields and how it ended."""

    def __init__(self, iterator: Iterator[Result]) -> None:
        super().__init__(daemon=True)
        self.iterator, self.seen = iterator, list[tuple[str, int]]()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for result in self.iterator:
                self.seen.append((result.camera_id, result.seq))
        except BaseException as exc:  # the test asserts there is none
            self.error = exc


def readers(producer: FrameProducer) -> tuple[Drain, Drain]:
    results = Drain(producer.results(["cam"], block=0.2))
    events = Drain(producer.events("is22", "is22-a", block=0.2))
    results.start()
    events.start()
    return results, events


def serve(producer: FrameProducer, n: int, timeout: float = 30.0) -> list[int]:
    """``n`` frames of cam served by hand through the real functions, each an event; a
    frame that cannot be served yet (Redis coming back, the client reconnecting, the
    producer's cached "unreachable") is tried again."""
    scripts = ClaimScripts(producer.client, producer.settings)
    seqs: list[int] = []
    deadline = time.monotonic() + timeout
    while len(seqs) < n:
        try:
            job = play_a_worker(producer.client)
            seqs.append(serve_by_hand(producer, scripts, job, "cam", "human").seq)
        except (redis.RedisError, AssertionError):
            assert time.monotonic() < deadline, "Redis did not serve frames again"
            time.sleep(0.2)
    return seqs


def seen_all(drains: tuple[Drain, ...], seqs: list[int]) -> Callable[[], bool]:
    return lambda: all([s for _c, s in d.seen][-len(seqs) :] == seqs for d in drains)


def test_readers_ride_out_a_redis_restart(own_redis: EmbeddedRedis) -> None:
    settings = Settings(redis_url=own_redis.url, redis_timeout=0.5)
    producer = FrameProducer(connect(own_redis.url, timeout=0.5), settings)
    drains = readers(producer)
    time.sleep(0.5)  # both are reading: their start is pinned before the first result
    before = serve(producer, 2)
    wait_until(seen_all(drains, before), what="results before the restart")

    assert own_redis.process is not None
    own_redis.process.kill()  # a crash; it comes back empty (no persistence)
    own_redis.process.wait()
    time.sleep(3)
    own_redis.start()
    after = serve(producer, 3)
    wait_until(seen_all(drains, after), timeout=20, what="results after the restart")

    for drain in drains:
        assert drain.error is None, drain.error
        assert [s for _c, s in drain.seen] == before + after  # none missed, none twice


def test_a_reader_gives_up_past_its_bound(own_redis: EmbeddedRedis) -> None:
    settings = Settings(redis_url=own_redis.url, redis_timeout=0.5)
    producer = FrameProducer(connect(own_redis.url, timeout=0.5), settings)
    drain = Drain(producer.results(["cam"], block=0.2, ride_out=RideOut(give_up_after=2.0)))
    drain.start()
    time.sleep(0.5)
    own_redis.stop()
    stopped = time.monotonic()
    drain.join(timeout=20)
    assert isinstance(drain.error, FleetUnreachable), drain.error
    assert "past the 2 s bound (IS21_READER_GIVE_UP)" in str(drain.error)
    # The bound, plus at most one attempt's timeout (0.5 s) and this machine's slack.
    assert 2.0 <= time.monotonic() - stopped < 5


def test_readers_ride_out_a_sentinel_failover(cluster: SentinelCluster) -> None:
    """The master SIGKILLed while both readers read; the sentinels promote the replica;
    the readers go on from where they were, on the new master."""
    settings = Settings(redis_url=cluster.url, redis_timeout=1.0)
    producer = FrameProducer(connect(cluster.url, timeout=1.0), settings)
    drains = readers(producer)
    time.sleep(0.5)
    before = serve(producer, 2)
    wait_until(seen_all(drains, before), what="results before the failover")
    client: Any = producer.client
    assert client.wait(1, 2000) == 1  # the replica holds them: this test is not the loss
    first = cluster.master_port()
    cluster.kill(first)
    wait_until(lambda: cluster.master_port() != first, timeout=30, what="a new master")

    after = serve(producer, 3)
    wait_until(seen_all(drains, after), timeout=30, what="results after the failover")
    for drain in drains:
        assert drain.error is None, drain.error
        assert [s for _c, s in drain.seen] == before + after, cluster.logs()
