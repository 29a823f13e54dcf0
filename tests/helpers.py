"""Small helpers the tests share: wait on a condition, play the fleet's parts by hand."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis

from is21.producer import FrameProducer
from is21.protocol.functions import load_library
from is21.schemas import codec, keys
from is21.schemas.results import Result
from is21.workers.claims import Claim, ClaimScripts, Published
from tests.samples import EXPECTED_EVENTS, photo

T = TypeVar("T")

JPEG = "COCO_val2014_000000181586.jpg"  # a cat at a window


def systemd_stop_timeout() -> float:
    """TimeoutStopSec of the worker's unit: how long systemd lets a stopping worker take
    before it SIGKILLs it. What the product promises about stopping, so what a test may
    bound a stop by (with a margin: the machine may be busy with other work)."""
    unit = Path(__file__).resolve().parents[1] / "ops" / "systemd" / "is21-worker@.service"
    for line in unit.read_text().splitlines():
        if line.startswith("TimeoutStopSec="):
            return float(line.split("=", 1)[1])
    raise AssertionError(f"{unit} sets no TimeoutStopSec")


def wait_until(condition: Callable[[], T], timeout: float = 10.0, what: str = "the condition") -> T:
    """Poll ``condition`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.02)


def play_a_worker(client: redis.Redis, job_id: str = "job-x") -> str:
    """Register a live worker and its dispatch job, and return that job's id."""
    load_library(client)
    for live in (keys.WORKERS, keys.ANSWERING):
        client.zadd(live, {f"worker-of-{job_id}": time.time() * 1000 + 60_000})
    client.zadd(keys.JOBS, {job_id: time.time() * 1000 + 60_000})
    return job_id


def serve_by_hand(
    producer: FrameProducer,
    scripts: ClaimScripts,
    job_id: str,
    cam: str,
    primary_event: str = "no_event",
) -> Result:
    """Submit a frame of ``cam`` and serve it through the real claim and publish functions,
    as a worker would, with no model: for tests about what happens around a result."""
    ticket = producer.submit(cam, photo(JPEG))
    assert ticket.fallback is None, ticket.fallback
    claim = scripts.claim(job_id)
    assert isinstance(claim, Claim) and claim.camera_id == cam, claim
    events = [] if primary_event == "no_event" else [primary_event]
    result = Result(
        camera_id=cam,
        frame_id=claim.frame_id,
        seq=claim.seq,
        status="ok",
        primary_event=primary_event,
        events=events,
    )
    assert scripts.publish(job_id, result)[0] is Published.STORED
    return result


class XreadSpy:
    """Records the stream names of every XREAD the client sends."""

    def __init__(self, client: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[list[str]] = []
        real = client.xread

        def xread(streams: dict[str, str], **kw: Any) -> Any:
            self.calls.append(list(streams))
            return real(streams, **kw)

        monkeypatch.setattr(client, "xread", xread)


def counters(client: redis.Redis, camera_id: str) -> dict[str, int]:
    raw: Any = client.hgetall(keys.camera(camera_id))
    text = {b"holder", b"claimed_id", b"lost_id", b"last_id", b"reserved"}
    return {k.decode(): int(v) for k, v in raw.items() if k not in text}


def results_of(client: redis.Redis, camera_id: str) -> list[Result]:
    entries: Any = client.xrange(keys.results(camera_id))
    return [codec.decode(fields[b"data"], Result) for _id, fields in entries]


def settled(client: redis.Redis, cameras: list[str]) -> bool:
    """Every submitted frame is in exactly one final count and nothing is held."""
    if client.zcard(keys.READY) or client.zcard(keys.LEASES):
        return False
    for cam in cameras:
        c = counters(client, cam)
        done = sum(c.get(k, 0) for k in ("processed", "failed", "skipped", "expired"))
        if done != c["submitted"]:
            return False
    return True


def wait_settled(client: redis.Redis, cameras: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if settled(client, cameras):
            return
        time.sleep(0.05)
    state = {cam: counters(client, cam) for cam in cameras}
    raise AssertionError(f"not settled after {timeout}s: {state}")


def flood(producer: FrameProducer, cams: list[str], per_camera: int, gap: float = 0.0) -> None:
    frames = [photo(n) for n in sorted(EXPECTED_EVENTS)]
    for i in range(per_camera):
        for cam in cams:
            producer.submit(cam, frames[(i + len(cam)) % len(frames)])
        if gap:
            time.sleep(gap)


def bomb_jpeg() -> bytes:
    import io
    import struct

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG")
    data = buf.getvalue()
    i = data.index(b"\xff\xc0")
    return data[: i + 5] + struct.pack(">HH", 65535, 65535) + data[i + 9 :]
