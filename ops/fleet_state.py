"""Read-only views of the fleet in Redis, shared by the health endpoint and ``is21 status``.

Everything here is a handful of pipelined reads; nothing writes, so it is safe to run as
often as dashboards poll.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from producer.connection import server_ms
from schemas import keys

COUNTER_FIELDS = ("submitted", "processed", "failed", "skipped", "expired")


def live_workers(client: redis.Redis) -> list[dict[str, Any]]:
    """Heartbeats of the workers whose heartbeat has not expired, by name."""
    now = server_ms(client)
    names: Any = client.zrangebyscore(keys.WORKERS, now, "+inf")
    if not names:
        return []
    raw: Any = client.mget([keys.heartbeat(n.decode()) for n in names])
    workers = []
    for name, value in zip(names, raw, strict=True):
        if value is None:
            continue
        try:
            beat = json.loads(value)
        except ValueError:
            beat = {"worker": name.decode(), "model_loaded": False, "error": "bad heartbeat"}
        if isinstance(beat, dict):
            workers.append(beat)
    return sorted(workers, key=lambda w: str(w.get("worker", "")))


def worker_problems(client: redis.Redis) -> list[dict[str, Any]]:
    """Workers that failed to start, refused a model on reload, or hang in detection."""
    problems = []
    for key in client.scan_iter(match=keys.worker_error("*"), count=100):
        raw: Any = client.get(key)
        try:
            problems.append(json.loads(raw))
        except (TypeError, ValueError):
            continue
    for w in live_workers(client):
        if w.get("model_error"):
            problems.append({"worker": w.get("worker"), "error": w["model_error"]})
        if w.get("stuck"):
            problems.append(
                {
                    "worker": w.get("worker"),
                    "error": f"stuck: one frame in detection for {w.get('in_frame_s')} s "
                    "(over IS21_INFER_TIMEOUT)",
                    "stuck": True,
                }
            )
    return sorted(problems, key=lambda p: str(p.get("worker")))


@dataclass
class CameraState:
    camera_id: str
    counters: dict[str, int]
    lag_ms: float  # age of its oldest frame still waiting; 0 when none waits
    last_primary_event: str | None = None
    last_result_ms: float | None = None


@dataclass
class FleetState:
    now_ms: float
    workers: list[dict[str, Any]]
    queue_depth: int
    ready: int
    jobs: int
    cameras: list[CameraState] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    histogram: dict[str, float] = field(default_factory=dict)
    schema_version: str | None = None


def read_state(client: redis.Redis, queue: str) -> FleetState:
    now = server_ms(client)
    cams = sorted(m.decode() for m in client.smembers(keys.CAMERAS))  # type: ignore[union-attr]
    pipe = client.pipeline(transaction=False)
    pipe.llen(f"rq:queue:{queue}")
    pipe.zcard(keys.READY)
    pipe.zcount(keys.JOBS, now, "+inf")
    pipe.hgetall(keys.COUNTERS)
    pipe.hgetall(keys.INFERENCE_HISTOGRAM)
    pipe.hget(keys.SCHEMA, "version")
    for cam in cams:
        pipe.hgetall(keys.camera(cam))
        pipe.xrevrange(keys.results(cam), count=1)
    depth, ready, jobs, counters, hist, version, *per_cam = pipe.execute()
    state = FleetState(
        now_ms=now,
        workers=live_workers(client),
        queue_depth=int(depth),
        ready=int(ready),
        jobs=int(jobs),
        counters={k.decode(): int(v) for k, v in counters.items()},
        histogram={k.decode(): float(v) for k, v in hist.items()},
        schema_version=version.decode() if version else None,
    )
    for i, cam in enumerate(cams):
        raw, last = per_cam[2 * i], per_cam[2 * i + 1]
        fields = {k.decode(): v for k, v in raw.items()}
        since = float(raw[b"pending_since"]) if b"pending_since" in raw else None
        camera = CameraState(
            camera_id=cam,
            counters={f: int(fields.get(f, 0)) for f in COUNTER_FIELDS},
            lag_ms=max(0.0, now - since) if since is not None else 0.0,
        )
        if last:
            entry_id, entry = last[0]
            camera.last_primary_event = entry.get(b"primary_event", b"").decode() or None
            camera.last_result_ms = float(entry_id.split(b"-")[0])
        state.cameras.append(camera)
    return state


def uptime_since(started: float) -> float:
    return round(time.monotonic() - started, 1)
