"""A corpus of bad frames, end to end through real workers: each gets a clear error at
submit or an ``error`` result, good-but-unusual JPEGs are served, memory stays bounded."""

from __future__ import annotations

import io
import json
import os
import time
from typing import Any

import pytest
import redis
from PIL import Image

from is21.producer import FrameProducer
from is21.producer.errors import FrameTooLarge, NotAJpeg
from is21.schemas import keys
from tests.conftest import Fleet
from tests.helpers import bomb_jpeg, wait_until
from tests.samples import photo

CAT = "COCO_val2014_000000181586.jpg"  # the README: a cat at a window -> animal


def reencoded(**save: Any) -> bytes:
    img: Image.Image = Image.open(io.BytesIO(photo(CAT)))
    buf = io.BytesIO()
    if save.pop("cmyk", False):
        img = img.convert("CMYK")
    img.save(buf, "JPEG", **save)
    return buf.getvalue()


def worker_rss(client: redis.Redis) -> list[int]:
    """Every worker's RSS, from heartbeats beaten after this call began."""
    since = time.time()

    def fresh() -> list[int]:
        names: Any = client.zrange(keys.WORKERS, 0, -1)
        raw: Any = client.mget([keys.heartbeat(n.decode()) for n in names])
        beats = [json.loads(b) if b else None for b in raw]
        if not beats or any(b is None or b["beat_at"] < since for b in beats):
            return []
        return [b["rss_bytes"] for b in beats]

    return wait_until(fresh, timeout=15, what="a heartbeat from every worker")


def test_refused_at_submit(producer: FrameProducer, client: redis.Redis) -> None:
    client.zadd(keys.WORKERS, {"w": time.time() * 1000 + 60_000})
    with pytest.raises(FrameTooLarge):
        producer.submit("blob", b"\xff\xd8\xff" + os.urandom(50 * 2**20))  # a 50 MB blob
    with pytest.raises(NotAJpeg):
        producer.submit("blob", b"")
    buf = io.BytesIO()
    Image.open(io.BytesIO(photo(CAT))).save(buf, "PNG")
    with pytest.raises(NotAJpeg):
        producer.submit("blob", buf.getvalue())
    assert not client.exists(keys.frames("blob"), keys.camera("blob"))


def test_bad_and_unusual_frames_through_the_fleet(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    producer.wait(producer.submit("warm", photo(CAT)), timeout=30)
    before = max(worker_rss(client))  # warmed-up workers
    limit = producer.settings.max_frame_bytes
    errors = {
        "zeros-after-header": b"\xff\xd8\xff" + bytes(4096),
        "random-after-header": b"\xff\xd8\xff" + os.urandom(200_000),
        "largest-allowed-garbage": b"\xff\xd8\xff" + os.urandom(limit - 3),
        "truncated-progressive": reencoded(progressive=True)[:20_000],
        "bomb": bomb_jpeg(),
    }
    for name, frame in errors.items():
        result = producer.wait(producer.submit(f"bad-{name}", frame), timeout=30)
        assert result.status == "error" and "ImageError" in (result.error or ""), (name, result)
    served = {
        "progressive": reencoded(progressive=True, quality=90),
        "cmyk": reencoded(cmyk=True, quality=90),
    }
    for name, frame in served.items():
        result = producer.wait(producer.submit(f"odd-{name}", frame), timeout=30)
        assert result.status == "ok" and result.primary_event == "animal", (name, result)
    assert all(p.poll() is None for p in fleet.procs), fleet.logs()
    grown = max(worker_rss(client)) - before
    assert grown < 100 * 2**20, grown  # the 8 MB frames did not stay resident
