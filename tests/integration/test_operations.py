"""is21 status and is21 retention against a real redis-server and real workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import redis

from is21.ops.retention import run_retention
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import ROOT, Fleet, fleet_env
from tests.samples import photo


def is21(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "is21.ops", *args],
        cwd=ROOT,
        env=fleet_env(url, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_json_and_table(fleet: Fleet, producer: FrameProducer) -> None:
    for name in ("COCO_val2014_000000181013.jpg", "COCO_val2014_000000181386.jpg"):
        producer.wait(producer.submit("porch", photo(name)), timeout=20)
    out = is21(fleet.url, "status", "--json")
    assert out.returncode == 0, out.stderr
    snap = json.loads(out.stdout)
    assert sorted(w["worker"] for w in snap["workers"]) == ["w0", "w1"]
    assert all(w["backend"] == "onnx" and w["heartbeat_age_s"] < 5 for w in snap["workers"])
    (cam,) = snap["cameras"]
    assert (cam["camera_id"], cam["submitted"], cam["processed"]) == ("porch", 2, 2)
    assert cam["last_primary_event"] == "no_event"
    assert snap["recent_events"][0]["primary_event"] == "human"
    table = is21(fleet.url, "status", "--once")
    assert table.returncode == 0 and "porch" in table.stdout and "w0" in table.stdout


def test_worker_name_says_host_and_core(fleet: Fleet, client: redis.Redis) -> None:
    proc = fleet.start_args("--npu-core", "2")
    fleet.wait_alive(client, 3)
    members: Any = client.zrange(keys.WORKERS, 0, -1)
    names = [m.decode() for m in members]
    assert any(n.endswith(".npu2") for n in names), names
    beat: Any = client.get(keys.heartbeat(next(n for n in names if n.endswith(".npu2"))))
    assert json.loads(beat)["npu_core"] == "2"
    assert proc.poll() is None


def test_retention_trims_old_entries_and_keeps_new(
    producer: FrameProducer, client: redis.Redis, settings: Settings
) -> None:
    now = int(time.time() * 1000)
    old, new = now - 3_600_000, now - 1000  # an hour ago, a second ago
    client.sadd(keys.CAMERAS, "c1")
    for i in range(5):
        client.xadd(keys.frames("c1"), {"seq": i, "jpeg": b"x" * 1000}, id=f"{old}-{i}")
        client.xadd(keys.results("c1"), {"seq": i, "data": b"r"}, id=f"{old}-{i}")
        client.xadd(keys.EVENTS, {"data": b"e"}, id=f"{old}-{i}")
        client.xadd(keys.INCIDENTS, {"data": b"i"}, id=f"{old}-{i}")
    for i in range(3):
        client.xadd(keys.frames("c1"), {"seq": 10 + i, "jpeg": b"y" * 1000}, id=f"{new}-{i}")
        client.xadd(keys.results("c1"), {"seq": 10 + i, "data": b"r"}, id=f"{new}-{i}")
        client.xadd(keys.EVENTS, {"data": b"e"}, id=f"{new}-{i}")
        client.xadd(keys.INCIDENTS, {"data": b"i"}, id=f"{new}-{i}")
    # Five incidents' best frames, oldest first, one already past its TTL.
    for i in range(5):
        client.set(keys.snapshot(f"c1:human:{i}"), b"\xff\xd8" + b"j" * 5000, px=60_000)
        client.zadd(keys.SNAPSHOTS, {keys.snapshot(f"c1:human:{i}"): now - 5 + i})
    client.delete(keys.snapshot("c1:human:4"))  # its TTL ran out
    short = settings.model_copy(
        update={
            "retain_frames": 60,
            "retain_results": 60,
            "retain_events": 60,
            "retain_incidents": 60,
            "snapshots_max": 2,
        }
    )
    streams = ("frames", "results", "events", "incidents")

    dry = run_retention(client, short, dry_run=True).as_dict()
    assert [dry[k]["entries"] for k in streams] == [5, 5, 5, 5]
    assert dry["frames"]["bytes"] > 4000
    assert dry["snapshots"]["entries"] == 2 and dry["snapshots"]["bytes"] > 10_000
    assert client.xlen(keys.frames("c1")) == 8  # a dry run removes nothing
    assert client.zcard(keys.SNAPSHOTS) == 5 and client.exists(keys.snapshot("c1:human:0"))

    done = run_retention(client, short, dry_run=False).as_dict()
    assert [done[k]["entries"] for k in streams] == [5, 5, 5, 5]
    assert done["frames"]["bytes"] > 0
    # The two newest alive are kept; the oldest two dropped; the expired one unlisted.
    kept: Any = client.zrange(keys.SNAPSHOTS, 0, -1)
    assert kept == [keys.snapshot(f"c1:human:{i}").encode() for i in (2, 3)]
    assert not client.exists(keys.snapshot("c1:human:0"), keys.snapshot("c1:human:1"))
    for key in (keys.frames("c1"), keys.results("c1"), keys.EVENTS, keys.INCIDENTS):
        ids: Any = client.xrange(key)
        assert [i.decode() for i, _ in ids] == [f"{new}-{i}" for i in range(3)]


def test_retention_keeps_a_cameras_newest_frame(client: redis.Redis, settings: Settings) -> None:
    old = int(time.time() * 1000) - 3_600_000
    client.sadd(keys.CAMERAS, "quiet")
    for i in range(3):
        client.xadd(keys.frames("quiet"), {"seq": i + 1}, id=f"{old}-{i}")
    report = run_retention(client, settings, dry_run=False).as_dict()
    assert report["frames"]["entries"] == 2
    ids: Any = client.xrange(keys.frames("quiet"))
    assert [i.decode() for i, _ in ids] == [f"{old}-2"]


def test_retention_command(fleet: Fleet, producer: FrameProducer) -> None:
    producer.wait(producer.submit("r1", photo("COCO_val2014_000000181013.jpg")), timeout=20)
    out = is21(fleet.url, "retention", "--dry-run", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["dry_run"] is True
    out = is21(fleet.url, "retention")
    assert out.returncode == 0 and "removed" in out.stdout


def test_an_infinite_retention_is_refused_at_start(client: redis.Redis, settings: Settings) -> None:
    out = is21(settings.effective_redis_url, "retention", IS21_RETAIN_RESULTS="inf")
    assert out.returncode == 2 and "invalid settings" in out.stderr, out.stderr
    assert "IS21_RETAIN_RESULTS" in out.stderr and "Traceback" not in out.stderr


def test_retention_removes_frame_streams_a_client_emptied(
    client: redis.Redis, settings: Settings
) -> None:
    """docs/protocol.md: after a register error the client deletes its frame (XDEL), which
    leaves the stream behind, empty; retention removes it, and only while it is empty."""
    client.xadd(keys.frames("refused"), {"jpeg": b"x"}, id="1-0")
    client.xdel(keys.frames("refused"), "1-0")
    client.xadd(keys.frames("busy"), {"jpeg": b"x"})
    assert client.exists(keys.frames("refused"))
    report = run_retention(client, settings, dry_run=False).as_dict()
    assert report["empty_streams"] == 1
    assert not client.exists(keys.frames("refused")) and client.xlen(keys.frames("busy")) == 1
