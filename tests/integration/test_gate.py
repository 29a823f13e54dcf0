"""The change gate (issue 32) end to end: real workers running the real model on real
photos, on a real redis-server. A frame that shows what the last one the detectors ran on
showed is answered with that frame's detections (``gated``), counted, timed and shown to
operators; what the issue says must not be skipped is not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Result
from tests.conftest import Fleet, Health, fleet_env, run_is21
from tests.scenes import walk, walker_at

pytestmark = pytest.mark.integration


def push_gates(producer: FrameProducer, **cameras: dict[str, Any]) -> None:
    producer.push_schema(
        {
            **DEFAULT_SCHEMA.model_dump(),
            "version": "2026-12-06.2",
            "cameras": {cam: {"gate": gate} for cam, gate in cameras.items()},
        }
    )


def serve(producer: FrameProducer, camera: str, frames: list[bytes]) -> list[Result]:
    """Each frame served before the next is sent, as a camera at its own pace."""
    return [producer.wait(producer.submit(camera, f), timeout=30) for f in frames]


def test_an_unchanged_scene_is_answered_without_the_detectors(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    health_factory: Callable[..., Health],
    redis_server: EmbeddedRedis,
) -> None:
    push_gates(producer, always={"enabled": False})
    fleet_factory(1)
    poster = walker_at(400)  # a person who never moves: a poster, no incident holds
    first, *again = serve(producer, "still", [poster] * 4)
    assert not first.gated and first.primary_event == "human" and first.detections
    for result in again:
        assert result.gated and result.gated_from == first.frame_id
        assert result.detections == first.detections and result.events == first.events
        assert (result.width, result.height) == (first.width, first.height)
    # The camera server still sees every frame's event, as if the detectors had run.
    assert client.xlen(keys.EVENTS) == 4
    # A camera whose gate is off in the schema runs the detectors on every frame.
    assert not any(r.gated for r in serve(producer, "always", [poster] * 3))
    # Operators: counted per camera, timed, shown.
    camera: Any = client.hgetall(keys.camera("still"))
    assert camera[b"processed"] == b"4" and camera[b"gated"] == b"3"
    gate_looks: Any = client.hget(keys.GATE_HISTOGRAM, "count")
    assert int(gate_looks) == 4  # the cameras it looked at: not the one switched off
    processing: Any = client.hget(keys.PROCESSING_HISTOGRAM, "count")
    assert int(processing) == 1 + 3  # the detector's time, of the frames it ran on
    _, metrics = health_factory().request("/metrics")
    assert b'is21_gate_frames_total{camera_id="still",decision="gated"} 3.0' in metrics
    assert b'is21_gate_frames_total{camera_id="still",decision="run"} 1.0' in metrics
    assert b'is21_gate_frames_total{camera_id="always",decision="gated"} 0.0' in metrics
    assert b"is21_gate_duration_ms_count 4.0" in metrics
    status = run_is21("status", "--once", "--all", env=fleet_env(redis_server.url)).stdout
    line = next(row for row in status.splitlines() if row.startswith("still "))
    assert " 75% " in line, status
    assert "change gate: 43% of 7 results without the detectors, its look " in status


def test_what_must_not_be_skipped_is_not(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer, client: redis.Redis
) -> None:
    push_gates(producer, recheck={"max_skip": 1.0})
    fleet_factory(1)
    # A change: a person walking in.
    empty_then_person = serve(producer, "door", [walker_at(20), walker_at(20), walker_at(500)])
    assert [r.gated for r in empty_then_person] == [False, True, False]
    # An incident open: the same frame again runs the detectors while it is.
    walked = serve(producer, "porch", walk(4, step=100))
    stands = serve(producer, "porch", [walk(4, step=100)[-1]] * 3)
    open_now: Any = client.hkeys(keys.INCIDENTS_OPEN)
    assert any(i.startswith(b"porch:human:") for i in open_now), "the walk opened an incident"
    assert not any(r.gated for r in walked + stands)
    # max_skip: the detectors look again once it has passed since they last ran.
    first, second = serve(producer, "recheck", [walker_at(20)] * 2)
    time.sleep(1.2)  # the rule under test is wall-clock time itself
    (third,) = serve(producer, "recheck", [walker_at(20)])
    assert (first.gated, second.gated, third.gated) == (False, True, False)
    # A gate key a foreign client broke: the detectors run, the camera is named.
    client.hset(keys.gate("broken"), "x", "1")
    results = serve(producer, "broken", [walker_at(20)] * 2)
    assert all(r.status == "ok" and not r.gated for r in results)
    assert b"is21:gate:broken is a hash" in (client.hget(keys.CAMERA_PROBLEMS, "broken") or b"")
