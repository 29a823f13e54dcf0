"""Incidents across faults (issue 31), on real redis-servers with real workers: a worker
SIGKILLed mid-incident, Redis restarted with and without its data, a Sentinel failover,
and cameras that go silent. In every case no incident stays open, none is announced
twice, and every ``new`` gets exactly one ``end``."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.lab.sentinel_cluster import SentinelCluster
from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.protocol.functions import load_library
from is21.schemas import codec, keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.incidents import IncidentMessage
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, Fleet, fleet_env, require_shared
from tests.helpers import wait_until
from tests.scenes import empty, walk

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)

# Long enough that a killed worker's camera, blocked for one lease (5 s), keeps its track
# and its incident; short enough for a test.
RULES = {"end_after": 8.0}


def push_rules(producer: FrameProducer, cameras: list[str]) -> None:
    producer.push_schema(
        {
            **DEFAULT_SCHEMA.model_dump(),
            "version": "2026-12-06.2",
            "cameras": {cam: {"tracking": RULES} for cam in cameras},
        }
    )


def play(producer: FrameProducer, camera: str, frames: list[bytes], gap: float = 0.3) -> None:
    """Each frame answered (or given up on: a worker may die holding it) before the next."""
    for frame in frames:
        sent = time.monotonic()
        with contextlib.suppress(Exception):  # lost with its worker, or Redis away: go on
            producer.wait(producer.submit(camera, frame), timeout=15)
        time.sleep(max(0.0, gap - (time.monotonic() - sent)))


def stored(client: redis.Redis) -> list[IncidentMessage]:
    entries: Any = client.xrange(keys.INCIDENTS)
    return [codec.decode(fields[b"data"], IncidentMessage) for _id, fields in entries]


def check_pairs(messages: list[IncidentMessage]) -> dict[str, list[str]]:
    """Each incident: one new, updates, one end, nothing after; the types by id."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for m in messages:
        by_id[m.id].append(m.type)
    for incident, types in by_id.items():
        assert types[0] == "new" and types[-1] == "end", (incident, types)
        assert types.count("new") == 1 == types.count("end"), (incident, types)
    return dict(by_id)


def all_ended(client: redis.Redis) -> bool:
    try:
        return client.hlen(keys.INCIDENTS_OPEN) == 0 and client.zcard(keys.INCIDENTS_DUE) == 0
    except redis.ConnectionError:  # a failover under way
        return False


def test_a_worker_killed_mid_incident_neither_loses_nor_doubles_one(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    cams = [f"kill{i}" for i in range(4)]
    push_rules(producer, cams)
    fleet = fleet_factory(2)
    walkers = [
        threading.Thread(target=play, args=(producer, cam, walk(14, step=60))) for cam in cams
    ]
    for t in walkers:
        t.start()
    wait_until(lambda: len(stored(client)) >= 2, 30, "incidents open on two cameras")
    fleet.procs[1].kill()  # mid-incident, most likely mid-frame
    for t in walkers:
        t.join()
    # Two cameras show the empty scene; two go silent: frames end some, the sweep others.
    quiet = [
        threading.Thread(target=play, args=(producer, cam, [empty()] * 40)) for cam in cams[:2]
    ]
    for t in quiet:
        t.start()
    wait_until(lambda: all_ended(client), 40, "every incident ended")
    for t in quiet:
        t.join()
    by_id = check_pairs(stored(client))
    assert {i.split(":")[0] for i in by_id} == set(cams), by_id
    print({i: types for i, types in by_id.items()})


def serve_one_incident(producer: FrameProducer, client: redis.Redis, camera: str) -> str:
    play(producer, camera, walk(6, step=100))
    (new,) = wait_until(lambda: stored(client), 15, "the new incident")
    return new.id


def test_an_incident_outlives_a_redis_restart_with_its_data(tmp_path: Path) -> None:
    """With persistence (appendonly, fsync always), the record, the stream and the open
    incident come back together; the sweep then ends it, once."""
    require_shared()
    server = EmbeddedRedis(extra_args=("--appendonly", "yes", "--appendfsync", "always"))
    server.start()
    try:
        client = connect(server.url)
        fleet = Fleet(server.url, fleet_env(server.url), [], tmp_path)
        fleet.start("p0")
        fleet.wait_alive(client, 1)
        producer = FrameProducer(client, Settings(redis_url=server.url, model_dir=MODEL_DIR))
        push_rules(producer, ["aof"])
        incident = serve_one_incident(producer, client, "aof")
        assert server.process is not None
        server.process.kill()  # a crash, with the incident open
        server.process.wait()
        server.start()
        wait_until(lambda: all_ended(client), 40, "the incident ended after the restart")
        assert check_pairs(stored(client)) == {incident: ["new", "end"]}
        assert all(p.poll() is None for p in fleet.procs), fleet.logs()
        fleet.stop()
    finally:
        server.stop()


def test_a_redis_restarted_empty_ends_what_it_forgot_at_the_reader(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """Without persistence (the shipped default) the fleet forgets its open incidents
    with everything else; the camera server's reader ends them itself, and what comes
    after is a new incident under a new id."""
    require_shared()
    client = connect(own_redis.url)
    fleet = Fleet(own_redis.url, fleet_env(own_redis.url), [], tmp_path)
    fleet.start("e0")
    fleet.wait_alive(client, 1)
    settings = Settings(redis_url=own_redis.url, model_dir=MODEL_DIR)
    producer = FrameProducer(client, settings)
    push_rules(producer, ["empty"])
    reader = FrameProducer(connect(own_redis.url), settings).incidents("is22", "r", block=0.2)
    first = serve_one_incident(producer, client, "empty")
    assert next(reader).id == first
    assert own_redis.process is not None
    own_redis.process.kill()
    own_redis.process.wait()
    own_redis.start()
    ended = next(reader)  # the reader rides out the restart, then ends what Redis forgot
    assert ended.type == "end" and ended.id == first and ended.reason is not None
    fleet.wait_alive(client, 1)
    push_rules(producer, ["empty"])  # the operator's schema push (or IS21_STATE_DIR)
    play(producer, "empty", walk(6, step=100))
    play(producer, "empty", [empty()] * 35)
    again = [next(reader), next(reader)]
    assert [m.type for m in again] == ["new", "end"] and again[0].id != first
    assert all_ended(client)
    fleet.stop()


def test_an_incident_survives_a_sentinel_failover(cluster: SentinelCluster, tmp_path: Path) -> None:
    require_shared()
    url = cluster.url
    client = connect(url, timeout=2)
    load_library(client)
    fleet = Fleet(url, fleet_env(url, IS21_HEARTBEAT_INTERVAL="0.5"), [], tmp_path)
    fleet.start("f0")
    fleet.wait_alive(client, 1)
    producer = FrameProducer(client, Settings(redis_url=url, model_dir=MODEL_DIR))
    push_rules(producer, ["fail"])
    try:
        incident = serve_one_incident(producer, client, "fail")
        time.sleep(1)  # replicated (asynchronously; a write of the last ms may be lost)
        cluster.kill(cluster.master_port())
        # The person walks on through the failover; then the camera goes silent.
        play(producer, "fail", walk(20, step=30, start=300), gap=0.5)
        wait_until(lambda: all_ended(client), 40, "the incident ended on the new master")
        by_id = check_pairs(stored(client))
        assert incident in by_id, by_id
        assert all(p.poll() is None for p in fleet.procs), fleet.logs()
    finally:
        fleet.stop()
