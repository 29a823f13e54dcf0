"""The frame path against a real redis-server and two real worker processes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, Published
from tests.conftest import ROOT, Fleet
from tests.helpers import (
    XreadSpy,
    bomb_jpeg,
    counters,
    flood,
    play_a_worker,
    results_of,
    settled,
    wait_settled,
    wait_until,
)
from tests.samples import EXPECTED_EVENTS, expected_primary, photo

PHOTOS = sorted(EXPECTED_EVENTS)


def test_sample_photos_through_the_fleet(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    cams = ["front", "back", "garden", "drive"]
    for start in range(0, len(PHOTOS), len(cams)):
        tickets = [
            (name, producer.submit(cam, photo(name), request_id=f"req-{name[-10:-4]}"))
            for cam, name in zip(cams, PHOTOS[start : start + len(cams)], strict=True)
        ]
        for name, ticket in tickets:
            result = producer.wait(ticket, timeout=30)
            assert result.status == "ok", result.error
            assert result.seq == ticket.seq and result.frame_id == ticket.frame_id
            # The whole result on failure: a no_event here was once seen and not explained.
            assert result.primary_event == expected_primary(name), (name, result)
            assert set(result.events) == EXPECTED_EVENTS[name]
            assert result.request_id == ticket.request_id
            assert result.worker in ("w0", "w1")
            assert result.processing_ms > 0 and result.queue_ms >= 0
            assert result.model == "yolox-nano-coco" and len(result.model_sha256) == 64
    # One result per frame, and non-no_event results also in the events stream.
    all_results = [r for cam in cams for r in results_of(client, cam)]
    assert len(all_results) == len(PHOTOS)
    assert client.xlen(keys.EVENTS) == sum(1 for n in PHOTOS if EXPECTED_EVENTS[n])
    ev: Any = client.xrange(keys.EVENTS)
    assert {f[b"primary_event"] for _i, f in ev} <= {b"human", b"animal"}
    assert producer.latest_result("drive") == results_of(client, "drive")[-1]


def test_invariants_under_overload(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    cams = [f"cam{i}" for i in range(6)]
    queue = Queue("is21", connection=client, serializer=JSONSerializer)
    peak = {"queued": 0, "jobs": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak["queued"] = max(peak["queued"], queue.count)
            peak["jobs"] = max(peak["jobs"], client.zcard(keys.JOBS))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        flood(producer, cams, per_camera=80, gap=0.01)
        wait_settled(client, cams)
    finally:
        stop.set()
        watcher.join()

    # 4. RQ work stays bounded by the number of workers, whatever the frame rate.
    assert peak["jobs"] <= 2 and peak["queued"] <= 2, peak
    total_skipped = 0
    for cam in cams:
        c = counters(client, cam)
        results = results_of(client, cam)
        # 1. every frame is exactly one of processed / skipped / expired.
        assert c["submitted"] == 80
        assert c.get("processed", 0) + c.get("failed", 0) == len(results)
        assert c.get("failed", 0) == 0
        assert c.get("expired", 0) == 0
        assert len(results) + c.get("skipped", 0) == 80
        assert sum(r.skipped for r in results) == c.get("skipped", 0)
        total_skipped += c.get("skipped", 0)
        # 2. results in frame order, one camera served by one worker at a time.
        assert [r.seq for r in results] == sorted({r.seq for r in results})
        for a, b in pairwise(results):
            assert a.published_at and b.claimed_at and a.published_at <= b.claimed_at
        # 3. the last frame of each camera was served (the newest one wins).
        assert results[-1].seq == 80
    assert total_skipped > 0, "the flood did not overload the fleet; the test proves nothing"


def test_submit_falls_back_at_once_when_no_worker_is_alive(
    producer: FrameProducer, client: redis.Redis
) -> None:
    jpeg = photo(PHOTOS[0])
    for _ in range(3):
        started = time.perf_counter()
        ticket = producer.submit("a", jpeg, request_id="r-1")
        elapsed_ms = (time.perf_counter() - started) * 1000
        assert elapsed_ms < 50, elapsed_ms
        assert ticket.fallback is not None
        result = producer.wait(ticket, timeout=0.01)
        assert (result.status, result.primary_event) == ("fallback", "no_event")
        assert result.request_id == "r-1" and result.error == "no live worker"
    assert client.xlen(keys.frames("a")) == 0 and client.zcard(keys.JOBS) == 0
    assert client.hget(keys.COUNTERS, "fallback") == b"3"


def test_submit_falls_back_when_redis_is_unreachable(tmp_path: Path) -> None:
    producer = FrameProducer.from_url(f"unix://{tmp_path}/nothing.sock", Settings())
    started = time.perf_counter()
    ticket = producer.submit("a", photo(PHOTOS[0]))
    assert time.perf_counter() - started < 1.0
    assert ticket.fallback is not None and ticket.fallback.status == "fallback"
    assert "redis unreachable" in (ticket.fallback.error or "")
    started = time.perf_counter()
    assert producer.submit("a", photo(PHOTOS[0])).fallback is not None
    assert time.perf_counter() - started < 0.05  # the outage is remembered for a moment


def test_cameras_never_served_go_in_arrival_order_with_their_newest_frame(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """Drive the claim protocol directly: no workers, this test plays one."""
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings)
    job_id = play_a_worker(client)
    jpeg = photo(PHOTOS[0])
    for cam in ("a", "b", "c"):
        producer.submit(cam, jpeg)
        time.sleep(0.005)
    for _ in range(3):
        producer.submit("c", jpeg)
    producer.submit("a", jpeg)
    claimed = []
    while (claim := scripts.claim(job_id)) is not None:
        assert isinstance(claim, Claim)
        claimed.append((claim.camera_id, claim.seq, claim.skipped))
    # None served yet: in order of arrival; each gives its newest frame, older ones skipped.
    assert claimed == [("a", 2, 1), ("b", 1, 0), ("c", 4, 3)]


def test_the_camera_served_longest_ago_goes_first_and_lag_counts_from_arrival(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """A camera with a frame now and then is served before cameras that always have one
    waiting, though its frame came last; its lag is still its frame's own wait."""
    from is21.ops.fleet_state import read_state
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings)
    job_id = play_a_worker(client)
    jpeg = photo(PHOTOS[0])
    producer.submit("quiet", jpeg)
    first = scripts.claim(job_id)
    assert isinstance(first, Claim) and first.camera_id == "quiet"
    done = Result(camera_id="quiet", frame_id=first.frame_id, seq=1, status="ok")
    assert scripts.publish(job_id, done)[0] is Published.STORED
    for cam in ("busy-1", "busy-2", "quiet"):
        time.sleep(0.01)
        producer.submit(cam, jpeg)
    lag = {c.camera_id: c.lag_ms for c in read_state(client, producer.settings.queue).cameras}
    assert lag["busy-1"] >= lag["busy-2"] + 5 and lag["busy-2"] >= lag["quiet"] + 5, lag
    claimed = []
    while (claim := scripts.claim(job_id)) is not None:
        assert isinstance(claim, Claim)
        claimed.append(claim.camera_id)
    # By arrival it would be busy-1, busy-2, quiet.
    assert claimed == ["quiet", "busy-1", "busy-2"]
    assert all(c.lag_ms == 0 for c in read_state(client, producer.settings.queue).cameras)


def two_jobs_and_three_waiting_cameras(
    producer: FrameProducer, client: redis.Redis
) -> tuple[str, str, bytes]:
    """Jobs job-x and job-other live; cameras a, b, c waiting in that order."""
    job_id, other = play_a_worker(client), play_a_worker(client, "job-other")
    jpeg = photo(PHOTOS[0])
    for cam in ("a", "b", "c"):
        producer.submit(cam, jpeg)
        time.sleep(0.005)
    return job_id, other, jpeg


def test_reserved_camera_is_served_next_with_its_newest_frame(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """A reservation keeps the camera's place; its frame is chosen when it is claimed."""
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings)
    job_id, other, jpeg = two_jobs_and_three_waiting_cameras(producer, client)
    first, reserved = scripts.claim_ahead(job_id)
    assert isinstance(first, Claim) and (first.camera_id, reserved) == ("a", "b")
    other_claim = scripts.claim(other)  # another job gets c, never b
    assert isinstance(other_claim, Claim) and other_claim.camera_id == "c"
    newer = producer.submit("b", jpeg)  # arrives while b is reserved
    result = Result(camera_id="a", frame_id=first.frame_id, seq=first.seq, status="ok")
    _, (claim, after) = scripts.publish_and_claim(job_id, result, reserved)
    assert isinstance(claim, Claim) and (claim.camera_id, claim.seq) == ("b", newer.seq)
    assert claim.skipped == 1 and claim.jpeg == jpeg and after is None
    assert counters(client, "b")["skipped"] == 1


def test_unused_reservation_goes_back_with_its_place(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """Released by a job that ends, or lapsed with a job that died: nothing is counted
    as lost and the camera is first in line again."""
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings.model_copy(update={"lease_ttl": 0.2}))
    job_id, other, _jpeg = two_jobs_and_three_waiting_cameras(producer, client)
    first, reserved = scripts.claim_ahead(job_id)
    assert isinstance(first, Claim) and reserved == "b"
    result = Result(camera_id="a", frame_id=first.frame_id, seq=first.seq, status="ok")
    assert scripts.publish(job_id, result, release="b")[0] is Published.STORED  # the job ends here
    assert not scripts.release(job_id, "b")  # already given back
    _claim, reserved = scripts.claim_ahead(job_id)  # b first again, c reserved
    assert isinstance(_claim, Claim) and _claim.camera_id == "b" and reserved == "c"
    time.sleep(0.3)  # the job dies holding b and the reservation of c
    # c's turn is its frame's arrival (never served); b's, its claim, which came later.
    again = scripts.claim(other)
    assert isinstance(again, Claim) and again.camera_id == "c"
    again = scripts.claim(other)
    assert isinstance(again, Claim) and again.camera_id == "b" and again.seq == 1
    assert "leases_expired" not in counters(client, "c")
    assert counters(client, "b")["leases_expired"] == 1


def test_a_stalled_holder_loses_its_reservation_to_the_next_claim(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """A reservation waits two of its holder's frame times, not a camera lease: past that
    the next job to claim serves the camera; the holder, when it comes back, does not."""
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings)  # a camera lease of seconds
    job_id, other, _jpeg = two_jobs_and_three_waiting_cameras(producer, client)
    first, reserved = scripts.claim_ahead(job_id, reserve_ms=100)
    assert isinstance(first, Claim) and reserved == "b"
    time.sleep(0.15)  # the holder stalls on a: two of its frame times go by
    taken = scripts.claim(other)
    assert isinstance(taken, Claim) and taken.camera_id == "b"  # first in line, not c
    result = Result(camera_id="a", frame_id=first.frame_id, seq=first.seq, status="ok")
    _, (back, _next) = scripts.publish_and_claim(job_id, result, reserved)
    assert isinstance(back, Claim) and back.camera_id == "c"
    assert "leases_expired" not in counters(client, "b")  # nothing was lost, no frame in hand
    assert (b"holder", other.encode()) in client.hgetall(keys.camera("b")).items()


def test_frame_in_hand_of_a_dead_worker_is_served_again_then_failed(
    producer: FrameProducer, client: redis.Redis
) -> None:
    from is21.workers.claims import ClaimScripts

    scripts = ClaimScripts(client, producer.settings.model_copy(update={"lease_ttl": 0.2}))
    job_id = play_a_worker(client)
    ticket = producer.submit("poison", photo(PHOTOS[0]))
    first = scripts.claim(job_id)
    assert not isinstance(first, str) and first is not None and first.seq == ticket.seq
    assert scripts.claim(job_id) is None  # held: nobody else gets the camera
    time.sleep(0.3)
    again = scripts.claim(job_id)  # lease ran out: the same frame is served once more
    assert not isinstance(again, str) and again is not None and again.seq == ticket.seq
    time.sleep(0.3)
    assert scripts.claim(job_id) is None  # lost twice: not a third time
    (result,) = results_of(client, "poison")
    assert result.status == "error" and result.seq == ticket.seq
    assert result.frame_id == ticket.frame_id and "lost twice" in (result.error or "")
    c = counters(client, "poison")
    assert c["failed"] == 1 and c["leases_expired"] == 2 and c["submitted"] == 1
    assert settled(client, ["poison"])


def test_killed_worker_blocks_its_camera_for_one_lease(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    from is21.workers.claims import ClaimScripts

    fleet_factory(1, IS21_LEASE_TTL="1.5")
    dead = ClaimScripts(client, producer.settings.model_copy(update={"lease_ttl": 1.5}))
    jpeg = photo(PHOTOS[1])
    # Play a dispatched job that claims the camera and dies without publishing.
    client.zadd(keys.JOBS, {"job-that-dies": time.time() * 1000 + 60_000})
    ticket0 = producer.submit("cam-dead", jpeg)
    # The live worker may win the race for a frame; claim until we hold one. Each new
    # frame is claimed the moment it is registered, before the woken worker's own claim
    # can arrive; the pause lets the worker finish a frame it won.
    claimed_at = None
    for _ in range(200):
        claim = dead.claim("job-that-dies")
        if isinstance(claim, Claim):
            claimed_at = time.monotonic()
            break
        time.sleep(0.05)
        producer.submit("cam-dead", jpeg)
    assert claimed_at is not None
    ticket = producer.submit("cam-dead", jpeg)
    result = producer.wait(ticket, timeout=15)
    waited = time.monotonic() - claimed_at
    assert result.seq == ticket.seq and result.status == "ok"
    assert 1.0 <= waited <= 5.0, waited
    assert counters(client, "cam-dead")["leases_expired"] == 1
    assert ticket0.seq < ticket.seq


def test_sigkill_mid_flood_loses_nothing(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    cams = [f"k{i}" for i in range(4)]
    feeder = threading.Thread(target=flood, args=(producer, cams, 60, 0.02))
    feeder.start()
    time.sleep(0.5)
    fleet.procs[0].kill()
    feeder.join()
    wait_settled(client, cams, timeout=30)
    for cam in cams:
        seqs = [r.seq for r in results_of(client, cam)]
        assert seqs == sorted(set(seqs)), "a frame got two results or came out of order"
        assert seqs[-1] == 60


def test_lost_wake_up_race_with_tiny_job_budget(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    """Jobs hand over every 50 ms; frames arriving at any moment must still be served."""
    fleet_factory(2, IS21_JOB_BUDGET="0.05")
    jpeg = photo(PHOTOS[2])
    tickets = []
    for i in range(40):
        tickets.append(producer.submit(f"race{i % 3}", jpeg))
        time.sleep((i % 7) * 0.013)
    for t in tickets[-3:]:
        assert producer.wait(t, timeout=20).seq == t.seq
    wait_settled(client, ["race0", "race1", "race2"], timeout=20)
    assert client.zcard(keys.JOBS) <= 2


def test_bad_frames_become_error_results_and_the_worker_goes_on(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    good = photo("COCO_val2014_000000181586.jpg")
    bad = {
        "truncated": good[: len(good) // 3],
        "garbage": b"\xff\xd8\xff" + bytes(range(256)) * 40,
        "bomb": bomb_jpeg(),
    }
    for name, frame in bad.items():
        result = producer.wait(producer.submit(f"bad-{name}", frame), timeout=20)
        assert result.status == "error", name
        assert result.error and ("ImageError" in result.error), result.error
        assert result.detections == [] and result.primary_event == "no_event"
        after = producer.wait(producer.submit(f"bad-{name}", good), timeout=20)
        assert after.status == "ok" and after.primary_event == "animal"
        assert counters(client, f"bad-{name}")["failed"] == 1
    assert all(p.poll() is None for p in fleet.procs)
    assert client.xlen(keys.EVENTS) == len(bad)  # errors are not events


def test_rq_jobs_carry_no_frames_and_no_pickle(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    producer.wait(producer.submit("j", photo(PHOTOS[0])), timeout=20)
    job_keys: Any = client.keys("rq:job:*")
    assert job_keys
    for key in job_keys:
        data: Any = client.hget(key, "data")
        if data is None:
            continue
        plain = zlib.decompress(data)  # RQ zlib-compresses the serialized job
        assert len(plain) < 1024
        func, _instance, args, kwargs = json.loads(plain)  # JSON: plain data, never a pickle
        assert (func, args, kwargs) == ("is21.workers.job.serve", [], {})


def test_rq_info_shows_queue_and_workers(fleet: Fleet, producer: FrameProducer) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rq.cli", "info", "-u", fleet.url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "is21" in out.stdout and "w0" in out.stdout and "w1" in out.stdout


def test_results_iterator_sees_new_results(
    fleet: Fleet, producer: FrameProducer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Result] = []
    spy = XreadSpy(producer.client, monkeypatch)

    def consume() -> None:
        for r in producer.results(["it1", "it2"], block=0.2):
            seen.append(r)
            if len(seen) == 2:
                return

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    wait_until(lambda: spy.calls, what="the reader's first read")
    producer.submit("it1", photo(PHOTOS[3]))
    producer.submit("it2", photo(PHOTOS[4]))
    reader.join(timeout=20)
    assert sorted(r.camera_id for r in seen) == ["it1", "it2"]


def test_sigterm_exits_cleanly(fleet: Fleet, producer: FrameProducer, client: redis.Redis) -> None:
    producer.wait(producer.submit("t", photo(PHOTOS[0])), timeout=20)
    started = time.monotonic()
    assert fleet.stop() == [0, 0]
    assert time.monotonic() - started < 10
    assert client.zcard(keys.WORKERS) == 0
    assert not client.keys(keys.heartbeat("*"))


def test_racing_producers_register_both_frames_once_and_the_newest_is_served(
    producer: FrameProducer, client: redis.Redis
) -> None:
    """Two producers XADD to one camera, then both register: the first call registers
    both frames, the second has nothing new and changes nothing; the claim serves the
    newer frame and counts the older as skipped."""
    from is21.workers.claims import ClaimScripts

    job = play_a_worker(client)
    frames = keys.frames("race")
    client.xadd(frames, {"meta": b"\x80", "jpeg": b"\xff\xd8\xff"})
    newer = client.xadd(frames, {"meta": b"\x80", "jpeg": b"\xff\xd8\xff"})
    assert client.fcall("is21_register", 1, frames)[0] == 2
    assert client.fcall("is21_register", 1, frames)[0] == 2
    c = counters(client, "race")
    assert (c["submitted"], c["last_seq"]) == (2, 2)
    assert client.hget(keys.camera("race"), "last_id") == newer
    claim = ClaimScripts(client, producer.settings).claim(job)
    assert isinstance(claim, Claim) and (claim.frame_id, claim.seq) == (newer.decode(), 2)
    assert counters(client, "race")["skipped"] == 1


def test_a_frame_trimmed_before_it_is_read_gets_an_error_result(
    producer: FrameProducer, client: redis.Redis, settings: Settings
) -> None:
    from is21.workers.engine import Engine

    job_id = play_a_worker(client)
    ticket = producer.submit("gone", photo(PHOTOS[0]))
    client.delete(keys.frames("gone"))  # retention, or a flood past IS21_FRAME_MAXLEN
    engine = Engine(client, settings, [], "test-worker")
    claim = engine.scripts.claim(job_id)
    assert isinstance(claim, Claim)
    served = engine.detect(claim)
    result = served.result
    engine.publish(job_id, served)
    assert result.status == "error" and "trimmed" in (result.error or "")
    assert producer.wait(ticket, timeout=1).status == "error"
    assert settled(client, ["gone"])


def test_next_frame_is_claimed_read_and_decoded_while_one_is_inferred(
    producer: FrameProducer,
    client: redis.Redis,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The round trip that publishes frame N-1 and claims frame N+1 runs during the
    inference of frame N: looked at from inside the model's run, Redis already holds
    it. The job serves its three cameras in order and publishes all three."""
    from is21.workers import frame as frame_module
    from is21.workers.detector import detectors_from_settings
    from is21.workers.engine import Engine

    job_id, _other, _jpeg = two_jobs_and_three_waiting_cameras(producer, client)
    (det,) = detectors_from_settings(settings)
    engine = Engine(client, settings, [det], "test-worker")

    def claimed(cam: str) -> bool:
        return client.hget(keys.camera(cam), "claimed_seq") == b"1"

    def published(cam: str) -> bool:
        return client.xlen(keys.results(cam)) == 1

    during = [
        lambda: claimed("b") and not published("a"),  # inferring a: b claimed ahead
        lambda: published("a") and claimed("c"),  # inferring b: a out, c claimed
        lambda: published("b") and not published("c"),  # inferring c: b out
    ]
    seen: list[bool] = []
    run = det.backend.run

    def spy(pixels: Any) -> Any:
        check, deadline = during[len(seen)], time.monotonic() + 2.0
        while not (ok := check()) and time.monotonic() < deadline:
            time.sleep(0.002)
        seen.append(ok)
        if len(seen) == len(during):
            engine.stopping.set()  # finish what is in hand, then end the job
        return run(pixels)

    det.backend.run = spy  # type: ignore[method-assign]
    decoded_ahead: list[str] = []
    prepare = frame_module.prepare

    def spy_prepare(*args: Any) -> Any:
        decoded_ahead.append(threading.current_thread().name)
        return prepare(*args)

    monkeypatch.setattr(frame_module, "prepare", spy_prepare)
    assert engine.serve(job_id) == {"served": 3, "retired": False}
    assert seen == [True, True, True]
    # b and c were decoded by the helper thread while the frame before them was inferred.
    assert len(decoded_ahead) == 2 and all("is21-ahead" in n for n in decoded_ahead)
    results = {cam: results_of(client, cam) for cam in "abc"}
    assert all(len(r) == 1 and r[0].status == "ok" for r in results.values())
    # b and c waited in hand for the frame before theirs; a was detected at once.
    held = {cam: r[0].held_ms for cam, r in results.items()}
    assert held["b"] > held["a"] and held["c"] > held["a"], held
    assert settled(client, ["a", "b", "c"])
