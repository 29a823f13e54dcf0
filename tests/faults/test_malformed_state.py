"""Fleet keys holding what no fleet process writes (a hand edit, another tenant of the
Redis): every reader skips and names the bad entry and goes on with the rest."""

from __future__ import annotations

import redis

from is21.ops.health import HealthApp
from is21.ops.retention import run_retention
from is21.ops.status import snapshot
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.helpers import JPEG, play_a_worker
from tests.samples import photo


def spoil(client: redis.Redis) -> None:
    client.hset(keys.camera("counter-text"), "submitted", "lots")
    client.sadd(
        keys.CAMERAS, "counter-text", b"\xff\xfe not utf-8", "hash-a-string", "frames-a-hash"
    )
    client.set(keys.camera("hash-a-string"), "x")
    client.hset(keys.frames("frames-a-hash"), "a", "b")
    client.hset(keys.COUNTERS, "fallback", "many")


def test_metrics_status_and_retention_serve_the_rest(
    producer: FrameProducer, client: redis.Redis, settings: Settings
) -> None:
    play_a_worker(client)
    for _ in range(3):
        assert producer.submit("good", photo(JPEG)).fallback is None
    spoil(client)

    status, text = HealthApp(client, settings).routes.metrics()
    body = text.decode()
    assert status == 200, body
    assert 'is21_frames_total{camera_id="good",outcome="submitted"} 3.0' in body
    assert "is21_bad_fleet_entries 4.0" in body

    snap = snapshot(client, settings, None, 1.0)
    assert [c["camera_id"] for c in snap["cameras"]] == [
        "counter-text",
        "frames-a-hash",
        "good",
        "hash-a-string",
    ]
    assert any("not utf-8" in bad for bad in snap["bad_entries"])
    assert any("hash-a-string" in bad and "WRONGTYPE" in bad for bad in snap["bad_entries"])

    report = run_retention(
        client, settings.model_copy(update={"retain_frames": 0.001}), dry_run=False
    )
    assert report.kinds["frames"].entries == 2  # all but the newest of the good camera
    assert client.xlen(keys.frames("good")) == 1
    assert any(keys.frames("frames-a-hash") in s for s in report.skipped), report.skipped
    assert any("not utf-8" in s for s in report.skipped)
