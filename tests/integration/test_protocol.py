"""docs/protocol.md as a client outside this code base meets it: the redis-cli recipe run
out of the document, the events consumer group, a foreign client's mistakes, versions."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import redis

from is21.producer import FrameProducer
from is21.schemas import codec, keys
from is21.schemas.results import PROTOCOL_VERSION, Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts
from is21.workers.engine import Engine
from tests.conftest import ROOT, SAMPLES, Fleet
from tests.helpers import JPEG, play_a_worker, serve_by_hand, wait_until
from tests.samples import photo

PROTOCOL_DOC = ROOT / "docs" / "protocol.md"


def recipe_of(name: str = "redis-cli") -> str:
    text = PROTOCOL_DOC.read_text()
    found = re.search(rf"<!-- recipe: {name} -->\n```bash\n(.*?)```", text, re.S)
    assert found, f"docs/protocol.md lost its {name} recipe"
    return found.group(1)


def test_the_redis_cli_recipe_of_the_protocol_document(fleet: Fleet, client: redis.Redis) -> None:
    socket = fleet.url.removeprefix("unix://")
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", recipe_of()],
        env={
            **os.environ,
            "REDIS_CLI": f"redis-cli -s {socket}",
            "PHOTO": str(SAMPLES / JPEG),  # a cat at a window
            "CAM": "recipe",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("frame ") and "is number 1 of camera recipe" in lines[0], lines
    quoted = [m.group(1) if (m := re.search(r'"([^"]*)"$', line)) else "" for line in lines]
    values = {
        field: quoted[i + 1]
        for i, field in enumerate(quoted[:-1])
        if field in ("frame_id", "status", "primary_event")
    }
    frame_id = lines[0].split()[1]
    assert values == {"frame_id": frame_id, "status": "ok", "primary_event": "animal"}, lines
    (entry,) = client.xrange(keys.results("recipe"))
    assert codec.decode(entry[1][b"data"], Result).protocol == PROTOCOL_VERSION


def test_events_through_a_consumer_group_are_shared_and_survive_a_restart(
    producer: FrameProducer, client: redis.Redis
) -> None:
    job = play_a_worker(client)
    scripts = ClaimScripts(client, producer.settings)
    serve_by_hand(producer, scripts, job, "before", "human")  # before the group: not read
    first = producer.events("is22", "a", block=0.1, count=1)
    second = producer.events("is22", "b", block=0.1, count=1)
    published = [
        serve_by_hand(producer, scripts, job, f"cam-{i}", "human" if i % 2 else "animal")
        for i in range(6)
    ]
    serve_by_hand(producer, scripts, job, "quiet")  # no_event: not an event
    got_a, got_b = [], []
    for _ in range(3):
        got_a.append(next(first))
        got_b.append(next(second))
    assert sorted((r.camera_id, r.seq) for r in got_a + got_b) == sorted(
        (r.camera_id, r.seq) for r in published
    )
    # 'a' handled its three events but the last was never acknowledged (it asked for no
    # fourth): restarted under the same name, it gets that one again, then new ones.
    first.close()
    serve_by_hand(producer, scripts, job, "late", "animal")
    again = producer.events("is22", "a", block=0.1, count=1)
    assert (next(again).camera_id, next(again).camera_id) == (got_a[-1].camera_id, "late")


def test_a_foreign_clients_mistakes_get_clear_errors_and_error_results(
    producer: FrameProducer, client: redis.Redis, settings: Settings
) -> None:
    job = play_a_worker(client)
    for key, error in (
        ("is21:frames:bad:id", "camera id"),
        ("is21:frames:" + "x" * 65, "camera id"),
        ("elsewhere:frames:cam", "the key must be"),
        (keys.frames("never-added"), "XADD it first"),
    ):
        with pytest.raises(redis.ResponseError, match=error):
            client.fcall("is21_register", 1, key)
    client.hset(keys.frames("a-hash"), "jpeg", "x")
    with pytest.raises(redis.ResponseError, match="not a stream"):
        client.fcall("is21_register", 1, keys.frames("a-hash"))
    assert client.zcard(keys.READY) == 0 and not client.smembers(keys.CAMERAS)

    huge = b"\xff\xd8\xff" + bytes(settings.max_frame_bytes)
    entries = {
        "no-jpeg": ({"meta": codec.packb({})}, "no jpeg field"),
        "too-big": ({"jpeg": huge}, "over IS21_MAX_FRAME_BYTES"),
        "meta-list": ({"meta": codec.packb([1]), "jpeg": photo(JPEG)}, "CodecError"),
        "no-meta": ({"jpeg": photo(JPEG)}, None),
    }
    engine = Engine(client, settings, [], "foreign-test")
    for cam, (fields, error) in entries.items():
        client.xadd(keys.frames(cam), fields)
        assert client.fcall("is21_register", 1, keys.frames(cam))[0] == 1
        assert client.fcall("is21_register", 1, keys.frames(cam))[0] == 1  # nothing new
        claim = engine.scripts.claim(job)
        assert isinstance(claim, Claim) and claim.camera_id == cam
        served = engine.detect(claim)
        result = served.result
        engine.publish(job, served)
        if error is None:
            assert result.status == "ok" and result.captured_at is None, result.error
        else:
            assert result.status == "error" and error in (result.error or ""), result.error
            assert client.hget(keys.camera(cam), "failed") == b"1"


def test_a_newer_protocol_makes_the_client_fall_back(
    producer: FrameProducer, client: redis.Redis
) -> None:
    play_a_worker(client)
    client.hset(keys.PROTOCOL, "version", PROTOCOL_VERSION + 1)
    ticket = producer.submit("cam", photo(JPEG))
    assert ticket.fallback is not None and "upgrade is21" in (ticket.fallback.error or "")
    assert client.xlen(keys.frames("cam")) == 0


def test_workers_keep_the_protocol_key(fleet: Fleet, client: redis.Redis) -> None:
    client.delete(keys.PROTOCOL)
    fields = wait_until(lambda: client.hgetall(keys.PROTOCOL), what="is21:protocol again")
    assert fields[b"version"] == str(PROTOCOL_VERSION).encode()
    assert {b"frame_maxlen", b"max_frame_bytes", b"max_frame_age_ms"} <= set(fields)
