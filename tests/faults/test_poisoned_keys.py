"""Keys a foreign client or a careless operator broke: one camera's bad key concerns that
camera alone, and a function that answers with an error has changed nothing.

Issue 28, bugs 1-3: a results stream of the wrong type or at the last possible id killed
every dispatch job (the good camera got 0-5 of 10 results); is21_register wrote the
camera's state and then answered WRONGTYPE; a frame id from the future went into the
latency figures as a negative duration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import redis
from rq import Queue
from rq.registry import FailedJobRegistry

from is21.ops.problems import fleet_problems
from is21.producer import FrameProducer
from is21.protocol.connection import server_ms
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts, Published
from is21.workers.engine import Engine
from tests.conftest import Fleet
from tests.helpers import JPEG, counters, play_a_worker, results_of, wait_until
from tests.samples import photo

MAX_ID = "18446744073709551615-18446744073709551615"


def poison_with_a_string(client: redis.Redis, cam: str) -> None:
    client.set(keys.results(cam), "not a stream")


def poison_with_the_last_id(client: redis.Redis, cam: str) -> None:
    client.xadd(keys.results(cam), {"x": "y"}, id=MAX_ID)


@pytest.mark.parametrize("poison", [poison_with_a_string, poison_with_the_last_id])
def test_a_camera_whose_results_redis_refuses_does_not_starve_the_others(
    fleet_factory: Callable[..., Fleet],
    client: redis.Redis,
    producer: FrameProducer,
    settings: Settings,
    poison: Callable[[redis.Redis, str], None],
) -> None:
    fleet_factory(1)
    poison(client, "bad")
    bad_tickets = []
    for _ in range(10):
        bad_tickets.append(producer.submit("bad", photo(JPEG)))
        ticket = producer.submit("good", photo(JPEG))
        result = producer.wait(ticket, timeout=20)
        assert result.frame_id == ticket.frame_id and result.status == "ok", result
    assert len(results_of(client, "good")) == 10

    if poison is poison_with_a_string:
        # is21_register sees it first: each frame is refused at submit, with the reason.
        assert all(t.fallback is not None for t in bad_tickets)
        reason = str(bad_tickets[0].fallback and bad_tickets[0].fallback.error)
        assert "is21:results:bad is a string, not a stream" in reason, reason
    else:
        # Registered, served, and its result refused by Redis: each frame failed, counted,
        # and the camera named as a problem.
        assert all(t.fallback is None for t in bad_tickets)
        wait_until(lambda: counters(client, "bad").get("failed", 0) >= 1, what="a failed frame")
        assert "processed" not in counters(client, "bad")
        problems = [p["error"] for p in fleet_problems(client, settings)]
        assert any("bad" in p and "exhausted" in p for p in problems), problems
    # No dispatch job died of it.
    failed = FailedJobRegistry(queue=Queue("is21", connection=client))
    assert failed.get_job_ids() == []


def snapshot(client: redis.Redis) -> dict[bytes, Any]:
    """Every key with its type and serialized value: equal snapshots, nothing changed."""
    return {key: (client.type(key), client.dump(key)) for key in client.keys("*")}


# A key each function reads or writes, and the wrong type to give it.
REGISTER_KEYS = [
    keys.camera("cam"),
    keys.CAMERAS,
    keys.LEASES,
    keys.READY,
    keys.WAKE,
    keys.PROTOCOL,
    keys.results("cam"),
]


def wrong_type(client: redis.Redis, key: str) -> None:
    """The key becomes a type no function expects of it (a string; a set for strings)."""
    client.delete(key)
    client.set(key, "wrong type")


@pytest.mark.parametrize("key", REGISTER_KEYS)
def test_register_with_a_key_of_the_wrong_type_changes_nothing(
    client: redis.Redis, key: str
) -> None:
    frames = keys.frames("cam")
    client.xadd(frames, {"jpeg": b"\xff\xd8 first"})
    client.fcall("is21_register", 1, frames)  # the camera exists, with its state
    client.xadd(frames, {"jpeg": b"\xff\xd8 second"})
    wrong_type(client, key)
    before = snapshot(client)
    with pytest.raises(redis.ResponseError, match=r"is21_register: .* is a \w+, not a"):
        client.fcall("is21_register", 1, frames)
    assert snapshot(client) == before


def test_register_refuses_a_frame_id_ahead_of_redis_s_clock_and_changes_nothing(
    client: redis.Redis,
) -> None:
    frames = keys.frames("cam")
    client.xadd(frames, {"jpeg": b"\xff\xd8"}, id="99999999999999-0")
    before = snapshot(client)
    with pytest.raises(redis.ResponseError, match="ahead of Redis's clock"):
        client.fcall("is21_register", 1, frames)
    assert snapshot(client) == before
    assert client.zcard(keys.READY) == 0 and not client.exists(keys.camera("cam"))


def test_a_frame_id_within_the_clock_slack_never_makes_a_negative_duration(
    client: redis.Redis, producer: FrameProducer
) -> None:
    job = play_a_worker(client)
    frames = keys.frames("cam")
    client.xadd(frames, {"jpeg": photo(JPEG)}, id=f"{int(server_ms(client)) + 800}-0")
    client.fcall("is21_register", 1, frames)
    scripts = ClaimScripts(client, producer.settings)
    claim = scripts.claim(job)
    assert isinstance(claim, Claim) and claim.queue_ms == 0
    result = Result(camera_id="cam", frame_id=claim.frame_id, seq=claim.seq, status="ok")
    assert scripts.publish(job, result)[0] is Published.STORED
    histogram: Any = client.hgetall(keys.LATENCY_HISTOGRAM)
    assert float(histogram[b"sum"]) >= 0


def test_a_frame_read_ahead_for_another_camera_with_the_same_id_is_not_used(
    client: redis.Redis, producer: FrameProducer
) -> None:
    """Two cameras' streams share an id when their frames arrive in the same millisecond;
    a claim that took another camera than the one read ahead must read its own frame (the
    fleet test's unexplained no_event for a bird: it was served another photo)."""
    job = play_a_worker(client)
    same = f"{int(server_ms(client)) - 1000}-0"
    client.xadd(keys.frames("a"), {"jpeg": b"\xff\xd8 camera a"}, id=same)
    client.xadd(keys.frames("b"), {"jpeg": b"\xff\xd8 camera b"}, id=same)
    client.fcall("is21_register", 1, keys.frames("b"))  # only b is ready
    claim = ClaimScripts(client, producer.settings).claim_ahead(job, likely="a").claim
    assert isinstance(claim, Claim) and (claim.camera_id, claim.frame_id) == ("b", same)
    assert claim.jpeg == b"\xff\xd8 camera b"


def test_a_late_result_of_a_job_that_claimed_its_camera_again_is_stale(
    client: redis.Redis, producer: FrameProducer
) -> None:
    """A job cut off from Redis loses its lease; once back, the same job may claim the
    camera again before its in-flight publish of the old frame lands (redis-py retries
    it). That result was accounted for as skipped by the recovery: accepted, the frame
    was counted twice (the hosts test's cam03: processed + skipped = submitted + 1)."""
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    producer.submit("cam", photo(JPEG))
    old = scripts.claim(job)
    assert isinstance(old, Claim)
    client.zadd(keys.LEASES, {"cam": 1})  # the lease ran out while the job was cut off
    producer.submit("cam", photo(JPEG))
    new = scripts.claim(job)  # the same job, back: recovers the camera, takes the newest
    assert isinstance(new, Claim) and new.seq == old.seq + 1
    late = Result(camera_id="cam", frame_id=old.frame_id, seq=old.seq, status="ok")
    assert scripts.publish(job, late)[0] is Published.STALE
    current = Result(camera_id="cam", frame_id=new.frame_id, seq=new.seq, status="ok")
    assert scripts.publish(job, current)[0] is Published.STORED
    assert scripts.publish(job, current)[0] is Published.STALE  # a retried publish
    c = counters(client, "cam")
    assert c["processed"] + c.get("skipped", 0) == c["submitted"] == 2, c


def test_an_error_reply_quotes_at_most_80_characters_of_the_clients_input(
    client: redis.Redis,
) -> None:
    key = "is21:frames:" + "x" * 100_000
    with pytest.raises(redis.ResponseError) as refused:
        client.fcall("is21_register", 1, key)
    assert len(str(refused.value)) < 300 and "(100012 bytes)" in str(refused.value)


def test_a_result_dropped_as_stale_is_counted_and_not_logged_as_published(
    client: redis.Redis, producer: FrameProducer, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine used to discard publish.lua's "stale, dropped" answer and log the
    result as published (issue 29): now the heartbeat counts it and the log says so."""
    job = play_a_worker(client)
    engine = Engine(client, producer.settings, [], "stale-test")
    producer.submit("cam2", photo(JPEG))
    claim = engine.scripts.claim(job)
    assert isinstance(claim, Claim)
    served = engine.detect(claim)
    client.zadd(keys.LEASES, {"cam2": 1})  # the lease ran out meanwhile
    producer.submit("cam2", photo(JPEG))
    assert isinstance(engine.scripts.claim(job), Claim)  # the camera taken again
    with caplog.at_level(logging.DEBUG, logger="is21.workers"):
        engine.publish(job, served)
    assert engine.status()["results_stale"] == 1 and engine.status()["results_refused"] == 0
    said = [r.getMessage() for r in caplog.records]
    assert any("dropped as stale" in m for m in said), said
    assert not any(m.startswith("frame cam2/") for m in said), said
