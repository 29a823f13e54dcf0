"""Incidents, not frames (issue 31), end to end: real worker processes running the real
model on a real photo of a person moved across a still background, on a real redis-server.

The cameras' tracking rules are shortened through the event schema's per-camera
overrides (an end_after of 2 s instead of 30), which is also what these tests prove works; the
defaults are measured on a real clip by ``is21 bench incidents`` (docs/incidents.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.schemas import codec, keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.incidents import IncidentMessage
from tests.conftest import ROOT, Fleet, Health, fleet_env, run_is21
from tests.helpers import wait_until
from tests.integration.test_protocol import recipe_of
from tests.scenes import empty, walk

pytestmark = pytest.mark.integration

NODE_CLIENT = ROOT / "examples" / "node"
QUICK = {"end_after": 2.0, "update_every": 60.0}


def push_quick_rules(producer: FrameProducer, *cameras: str) -> None:
    producer.push_schema(
        {
            **DEFAULT_SCHEMA.model_dump(),
            "version": "2026-12-06.1",
            "cameras": {cam: {"tracking": QUICK} for cam in cameras},
        }
    )


def play(producer: FrameProducer, camera: str, frames: list[bytes], gap: float = 0.25) -> float:
    """Each frame served before the next is sent, ``gap`` apart; when the last was sent."""
    sent = 0.0
    for frame in frames:
        sent = time.time()
        producer.wait(producer.submit(camera, frame), timeout=30)
        time.sleep(max(0.0, gap - (time.time() - sent)))
    return sent


def messages(producer: FrameProducer) -> Iterator[IncidentMessage]:
    return producer.incidents("is22", "test", since="0", block=0.2)


def read_all(client: redis.Redis) -> list[IncidentMessage]:
    entries: Any = client.xrange(keys.INCIDENTS)
    return [codec.decode(fields[b"data"], IncidentMessage) for _id, fields in entries]


def test_a_walk_past_is_one_new_and_one_end_with_its_snapshot(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    redis_server: EmbeddedRedis,
    tmp_path: Path,
) -> None:
    redis_url = redis_server.url
    push_quick_rules(producer, "door")
    fleet_factory(1)
    first_person = time.time()
    last_person = play(producer, "door", walk(6, step=100))
    play(producer, "door", [empty()] * 12)  # 3 s of the empty promenade
    got = read_all(client)
    assert [m.type for m in got] == ["new", "end"], got
    new, end = got
    assert new.id == end.id and new.kind == "human" and new.camera_id == "door"
    assert new.before is None and end.before == new.after
    # new within 2 s of the first frame with a person; end within end_after + 2 s of the last
    assert new.after.start - first_person < 2.0
    assert end.after.end is not None and abs(end.after.end - last_person) < 0.5
    assert len(end.after.tracks) == 1 and end.after.tracks[0].label == "person"
    # The best frame is kept, a JPEG with a TTL, named in the incident.
    assert end.after.snapshot == keys.snapshot(end.id)
    jpeg = producer.snapshot(end.id)
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    assert 0 < client.pttl(keys.snapshot(end.id)) <= 86400 * 1000
    # Nothing left open, nothing due; counted on the camera.
    assert client.hlen(keys.INCIDENTS_OPEN) == 0 and client.zcard(keys.INCIDENTS_DUE) == 0
    camera: Any = client.hgetall(keys.camera("door"))
    assert camera[b"incidents_started:human"] == b"1" == camera[b"incidents_ended:human"]
    # Per-frame events still flow for the clients of is21:events.
    assert client.xlen(keys.EVENTS) >= 5
    # And a consumer group reads the incidents as the camera server would: in Python,
    reader = messages(producer)
    assert [next(reader).type, next(reader).type] == ["new", "end"]
    # in Node.js, from docs/protocol.md alone (examples/node/incidents.mjs),
    node = shutil.which("node")
    assert node is not None, "node is needed: run scripts/setup.sh"
    run = subprocess.run(
        [
            node,
            "incidents.mjs",
            "--group",
            "node",
            "--count",
            "2",
            "--snapshots",
            str(tmp_path),
            "--url",
            redis_url,
        ],
        cwd=NODE_CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(m["type"], m["id"]) for m in lines] == [("new", new.id), ("end", new.id)]
    assert Path(lines[1]["snapshot"]).read_bytes() == jpeg
    # and with redis-cli, by the recipe of docs/protocol.md section 7.
    socket = redis_url.removeprefix("unix://")
    recipe = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", recipe_of("redis-cli-incidents")],
        env={**os.environ, "REDIS_CLI": f"redis-cli -s {socket}", "GROUP": "cli"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert recipe.returncode == 0, recipe.stderr
    quoted = re.findall(r'"([^"]*)"$', recipe.stdout, re.M)
    told = [f"{t}:{new.id}:human" for t in ("new", "end")]
    assert [":".join(quoted[i + 1 : i + 6 : 2]) for i in (0, 6)] == told, recipe.stdout


def test_a_camera_gone_silent_is_ended_by_the_sweep(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    push_quick_rules(producer, "gate")
    fleet_factory(1)
    last_person = play(producer, "gate", walk(5, step=100))
    (new,) = wait_until(lambda: read_all(client), 10, "the new incident")
    assert new.type == "new" and client.hexists(keys.INCIDENTS_OPEN, new.id)
    # No frame comes: the heartbeat's sweep (every 2 s) ends it after end_after.
    got = wait_until(lambda: (m := read_all(client))[1:] and m, 15, "the sweep's end")
    ended = time.time()
    assert [m.type for m in got] == ["new", "end"]
    assert ended - last_person < QUICK["end_after"] + 2 + 2  # end_after, a beat, slack
    assert got[1].after.end is not None and abs(got[1].after.end - last_person) < 0.5
    assert client.hlen(keys.INCIDENTS_OPEN) == 0 and client.zcard(keys.INCIDENTS_DUE) == 0


def test_a_still_background_raises_no_incident(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    push_quick_rules(producer, "yard")
    fleet_factory(1)
    play(producer, "yard", [empty()] * 8)
    play(producer, "yard", walk(1) * 10)  # a person who never moves: a poster
    assert read_all(client) == []
    assert client.xlen(keys.EVENTS) == 10  # every frame of it is still an event


def test_operators_see_an_open_incident_and_its_snapshot(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    health_factory: Callable[..., Health],
    redis_server: EmbeddedRedis,
) -> None:
    fleet_factory(1)
    health = health_factory()
    play(producer, "porch", walk(4, step=100))  # the default rules: open for 30 s
    (new,) = wait_until(lambda: read_all(client), 10, "the new incident")
    status = run_is21("status", "--once", "--json", env=fleet_env(redis_server.url))
    (shown,) = json.loads(status.stdout)["incidents"]
    assert shown["id"] == new.id and shown["kind"] == "human" and shown["tracks"] == 1
    text = run_is21("status", "--once", env=fleet_env(redis_server.url)).stdout
    assert "incidents open: 1" in text and new.id in text
    _, metrics = health.request("/metrics")
    assert b'is21_incidents_open{camera_id="porch",kind="human"} 1.0' in metrics
    assert b'is21_incidents_started_total{camera_id="porch",kind="human"} 1.0' in metrics
    assert b'is21_incident_open_seconds{camera_id="porch",kind="human"}' in metrics
    status_code, jpeg = health.request(f"/v1/incidents/{new.id}/snapshot.jpg")
    assert status_code == 200 and jpeg == producer.snapshot(new.id) and jpeg[:2] == b"\xff\xd8"
    quoted = new.id.replace(":", "%3A")  # as a client's URL encoder may send it
    assert health.request(f"/v1/incidents/{quoted}/snapshot.jpg") == (200, jpeg)
    missing, body = health.request("/v1/incidents/porch:human:1/snapshot.jpg")
    assert missing == 404 and b"past its TTL" in body
    assert health.request("/v1/incidents/../snapshot.jpg")[0] == 404
    assert health.request(f"/v1/incidents/{new.id}/snapshot.jpg", method="PUT")[0] == 405
