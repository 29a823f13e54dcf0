"""Events held by a consumer that died are delivered to another, and one that no
consumer ever acknowledges is parked instead of looping (issue 28, bug 4: a dead
consumer's five events stayed pending on it for ever)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import redis

from is21.producer import FleetUnreachable, FrameProducer, Redelivery
from is21.schemas import keys
from is21.schemas.results import Result
from is21.workers.claims import ClaimScripts
from tests.conftest import ROOT
from tests.helpers import play_a_worker, serve_by_hand, wait_until


def take(events: Iterator[Result], n: int, timeout: float = 15.0) -> list[Result]:
    """The first ``n`` events, read in a daemon thread: a reader that never gets them
    fails the test instead of hanging it."""
    seen: list[Result] = []

    def run() -> None:
        try:
            for event in events:
                seen.append(event)
                if len(seen) == n:
                    return
        except FleetUnreachable:  # its Redis stops after the test
            return

    threading.Thread(target=run, daemon=True).start()
    wait_until(lambda: len(seen) >= n, timeout, what=f"{n} events")
    return seen


CONSUMER_A = textwrap.dedent(
    """
    import sys, time
    from is21.producer import FrameProducer
    producer = FrameProducer.from_url(sys.argv[1])
    events = producer.events("is22", "A", since="0", count=5)
    first = next(events)  # takes a batch of five, handles one
    print(first.frame_id, flush=True)
    time.sleep(3600)  # and dies before asking for the next
    """
)


def test_a_consumer_killed_mid_batch_loses_no_event_to_the_group(
    producer: FrameProducer, client: redis.Redis, redis_server: Any
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    published = [serve_by_hand(producer, scripts, job, f"cam{i}", "human") for i in range(5)]
    a = subprocess.Popen(
        [sys.executable, "-c", CONSUMER_A, redis_server.url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert a.stdout is not None
    handled_by_a = a.stdout.readline().strip()
    assert handled_by_a == published[0].frame_id
    pending: Any = client.xpending(keys.EVENTS, "is22")
    assert pending["pending"] == 5  # the whole batch sits on A
    a.send_signal(signal.SIGKILL)
    a.wait()
    published.append(serve_by_hand(producer, scripts, job, "cam5", "human"))

    events = producer.events("is22", "B", block=0.1, redelivery=Redelivery(idle_after=1.0))
    seen = [e.frame_id for e in take(events, 6)]
    assert sorted(seen) == sorted(r.frame_id for r in published)  # none lost, A's one again
    # All acknowledged but the one in hand, which is B's now.
    (left,) = client.xpending_range(keys.EVENTS, "is22", min="-", max="+", count=10)
    assert left["consumer"] == b"B"


def test_an_event_no_consumer_acknowledges_is_parked_after_max_deliveries(
    producer: FrameProducer, client: redis.Redis
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    serve_by_hand(producer, scripts, job, "cam", "human")
    poison: Any = client.xrange(keys.EVENTS)
    client.xgroup_create(keys.EVENTS, "is22", id="0")
    # Delivered and never acknowledged, three times, as by consumers that die on it.
    client.xreadgroup("is22", "X", {keys.EVENTS: ">"}, count=1)
    for name in ("Y", "Z"):
        client.xclaim(keys.EVENTS, "is22", name, 0, [poison[0][0]])
    redelivery = Redelivery(idle_after=0.05, max_deliveries=3)

    def idle_ms() -> int:
        (entry,) = client.xpending_range(keys.EVENTS, "is22", min="-", max="+", count=1)
        return int(entry["time_since_delivered"])

    wait_until(lambda: idle_ms() > 100, what="the poison idle past the bound")
    events = producer.events("is22", "B", block=0.1, redelivery=redelivery)
    serve_by_hand(producer, scripts, job, "cam", "animal")
    (later,) = take(events, 1)
    assert later.primary_event == "animal"  # the poison was not delivered a fourth time
    parked: Any = client.xrange(keys.EVENTS_PARKED)
    assert len(parked) == 1 and parked[0][1][b"event_id"] == poison[0][0]
    assert parked[0][1][b"deliveries"] == b"3" and parked[0][1][b"data"] == poison[0][1][b"data"]
    assert client.hget(keys.COUNTERS, "events_parked") == b"1"


def test_a_group_deleted_under_the_reader_is_created_again(
    producer: FrameProducer, client: redis.Redis
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    events = producer.events("is22", "B", block=0.1)
    serve_by_hand(producer, scripts, job, "cam", "human")
    assert take(events, 1)[0].camera_id == "cam"
    client.xgroup_destroy(keys.EVENTS, "is22")
    later: list[str] = []

    def publish_soon() -> None:
        wait_until(lambda: any(g["name"] == b"is22" for g in client.xinfo_groups(keys.EVENTS)))
        later.append(serve_by_hand(producer, scripts, job, "cam2", "animal").frame_id)

    threading.Thread(target=publish_soon, daemon=True).start()
    assert take(events, 1)[0].camera_id == "cam2"
