"""The producer library used as a careless or hostile camera server would use it.

Each test here fails on the producer that issue 14 found these bugs in: a results
iterator that grew without bound, one camera's error blinding every camera, pool
exhaustion reported as Redis down, calls bounded by twice their timeout, raw errors.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FleetUnreachable, FrameProducer, InvalidCapturedAt, WaitTimeout
from is21.producer.outage import RideOut
from is21.protocol.connection import connect
from is21.schemas import codec, keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts
from tests.helpers import JPEG, XreadSpy, play_a_worker, serve_by_hand, wait_until
from tests.samples import photo


def consume(results: Iterator[Result]) -> list[Result]:
    """Collect what an iterator yields, from a daemon thread."""
    seen: list[Result] = []

    def run() -> None:
        with contextlib.suppress(FleetUnreachable):  # its Redis stops after the test
            seen.extend(results)

    threading.Thread(target=run, daemon=True).start()
    return seen


def test_results_of_every_camera_reads_each_stream_once_and_a_new_camera_from_its_start(
    producer: FrameProducer, client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    serve_by_hand(producer, scripts, job, "early")  # before the iterator: not yielded
    spy = XreadSpy(client, monkeypatch)
    seen = consume(producer.results(block=0.05, refresh=0.3, ride_out=RideOut(0)))
    wait_until(lambda: spy.calls, what="the iterator's first read")
    # A camera that did not exist when the iterator started: every result of it counts,
    # including those published before the iterator's next look at the camera set.
    expected = [serve_by_hand(producer, scripts, job, "late") for _ in range(3)]
    expected.append(serve_by_hand(producer, scripts, job, "early"))
    wait_until(lambda: len(seen) >= 4, what="four results")
    reads = len(spy.calls)
    wait_until(lambda: len(spy.calls) > reads + 20, what="twenty more reads (several refreshes)")
    assert sorted((r.camera_id, r.seq) for r in seen) == sorted(
        (r.camera_id, r.seq) for r in expected
    )
    allowed = {keys.results("early"), keys.results("late")}
    assert all(set(streams) <= allowed for streams in spy.calls), spy.calls[-1]
    assert spy.calls[-1] == sorted(allowed)


def test_one_cameras_redis_error_concerns_that_camera_only(
    producer: FrameProducer, client: redis.Redis
) -> None:
    play_a_worker(client)
    client.set(keys.camera("broken"), "a string where a hash belongs")
    ticket = producer.submit("broken", photo(JPEG))
    assert ticket.fallback is not None
    assert "is21:camera:broken is a string, not a hash" in (ticket.fallback.error or "")
    assert client.xlen(keys.frames("broken")) == 0  # no unregistered JPEG left behind
    for cam in ("fine-1", "fine-2"):
        assert producer.submit(cam, photo(JPEG)).fallback is None


def test_150_threads_sharing_one_producer_never_see_redis_down(
    client: redis.Redis, settings: Settings
) -> None:
    """Each thread submits and then blocks in wait(), holding a connection per read:
    more threads than connections wait for one instead of falling back."""
    play_a_worker(client)
    producer = FrameProducer.from_url(settings.effective_redis_url, settings)
    outcomes: list[str] = []

    def camera(i: int) -> None:
        ticket = producer.submit(f"cam-{i}", photo(JPEG))
        if ticket.fallback is not None:
            outcomes.append(f"fallback: {ticket.fallback.error}")
            return
        try:
            producer.wait(ticket, timeout=2.5)  # no worker publishes: it times out
            outcomes.append("result")
        except FleetUnreachable as exc:
            outcomes.append(f"unreachable: {exc}")
        except WaitTimeout:
            outcomes.append("timeout")
        except Exception as exc:
            outcomes.append(f"raised {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=camera, args=(i,)) for i in range(150)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(outcomes) == 150
    assert set(outcomes) == {"timeout"}, sorted(set(outcomes))[:3]


@pytest.mark.parametrize("fleet_cache", [0.0, 60.0], ids=["liveness-asked", "liveness-cached"])
def test_submit_is_bounded_by_its_timeout_once_while_redis_is_paused(
    own_redis: EmbeddedRedis, fleet_cache: float
) -> None:
    settings = Settings(redis_url=own_redis.url, redis_timeout=0.5, fleet_cache=fleet_cache)
    producer = FrameProducer.from_settings(settings)
    play_a_worker(connect(own_redis.url))
    assert producer.submit("paused", photo(JPEG)).fallback is None
    assert own_redis.process is not None
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        ticket = producer.submit("paused", photo(JPEG))
        elapsed = time.monotonic() - started
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert ticket.fallback is not None and "unreachable" in (ticket.fallback.error or "")
    assert elapsed < 0.8, f"submit took {elapsed:.2f} s with IS21_REDIS_TIMEOUT=0.5"


def test_wait_raises_the_librarys_own_errors_and_skips_junk_entries(
    producer: FrameProducer, client: redis.Redis
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    ticket = producer.submit("junk", photo(JPEG))
    client.xadd(keys.results("junk"), {"seq": "999", "data": b"\xc1 not msgpack"})
    client.xadd(keys.results("junk"), {"hello": "world"})
    claim = scripts.claim(job)
    assert isinstance(claim, Claim)
    real = Result(camera_id="junk", frame_id=claim.frame_id, seq=claim.seq, status="ok")
    scripts.publish(job, real)
    got = producer.wait(ticket, timeout=5)
    assert (got.camera_id, got.seq, got.status) == ("junk", ticket.seq, "ok")
    assert producer.junk_results == 2
    assert producer.latest_result("junk") == got

    client.set(keys.results("wrong-type"), "x")
    other = ticket.__class__(**{**ticket.__dict__, "camera_id": "wrong-type"})
    with pytest.raises(FleetUnreachable, match="WRONGTYPE"):
        producer.wait(other, timeout=1)


def test_wait_on_a_redis_that_went_away_raises_fleet_unreachable(
    own_redis: EmbeddedRedis,
) -> None:
    producer = FrameProducer.from_url(own_redis.url, Settings(redis_timeout=0.5))
    play_a_worker(connect(own_redis.url))
    ticket = producer.submit("gone", photo(JPEG))
    own_redis.stop()
    with pytest.raises(FleetUnreachable):
        producer.wait(ticket, timeout=2)


@pytest.mark.parametrize(
    "captured_at",
    [datetime(2026, 12, 1, 12, 0), "2026-12-01T12:00:00Z", 1764590400.0],
    ids=["naive", "str", "float"],
)
def test_captured_at_must_be_an_aware_datetime(producer: FrameProducer, captured_at: Any) -> None:
    with pytest.raises(InvalidCapturedAt, match="timezone-aware"):
        producer.submit("cam", photo(JPEG), captured_at=captured_at)


def test_an_aware_captured_at_comes_back_as_that_instant(
    producer: FrameProducer, client: redis.Redis
) -> None:
    play_a_worker(client)
    at = datetime(2026, 12, 1, 21, 0, tzinfo=UTC).astimezone()  # any zone
    producer.submit("cam", photo(JPEG), captured_at=at)
    (entry,) = client.xrange(keys.frames("cam"))
    stored = codec.unpackb(entry[1][b"meta"])["captured_at"]
    assert datetime.fromisoformat(stored) == at
