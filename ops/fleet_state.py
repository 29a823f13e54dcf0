"""Read-only views of the fleet in Redis, shared by the health endpoint and ``is21 status``.

Everything here is a handful of pipelined reads; nothing writes, so it is safe to run as
often as dashboards poll.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from is21.ops.incidents import OpenIncident, read_open
from is21.protocol.connection import server_ms
from is21.schemas import keys
from is21.schemas.frames import camera_ids

log = logging.getLogger(__name__)

COUNTER_FIELDS = ("submitted", "processed", "failed", "skipped", "expired")
RECENT = 21  # results read per camera: enough for a rate, a few KB


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


@dataclass
class Progress:
    """Whether the fleet is serving what waits: live workers alone do not say it (two
    stray entries in is21:jobs once stopped every claim while every heartbeat was fresh)."""

    waiting: int  # cameras with a frame waiting for a worker
    oldest_wait_s: float  # how long the oldest of those frames has waited
    since_served_s: float | None  # since the fleet last published a result; None: never

    def stalled(self, bound_s: float) -> bool:
        """Frames have waited past ``bound_s`` and nothing was published for as long."""
        idle = self.since_served_s is None or self.since_served_s > bound_s
        return self.waiting > 0 and self.oldest_wait_s > bound_s and idle

    def problem(self, bound_s: float) -> str | None:
        if not self.stalled(bound_s):
            return None
        served = self.since_served_s
        return (
            f"stalled: {self.waiting} camera(s) waiting, the oldest frame for "
            f"{self.oldest_wait_s:.0f} s, and no result published "
            + ("yet" if served is None else f"for {served:.0f} s")
        )


def read_progress(client: redis.Redis) -> Progress:
    now = server_ms(client)
    ready: Any = client.zrange(keys.READY, 0, 9999)
    pipe = client.pipeline(transaction=False)
    pipe.get(keys.SERVED)
    for cam in ready:
        pipe.hget(keys.camera(cam.decode("utf-8", "replace")), "pending_since")
    served, *pending = pipe.execute(raise_on_error=False)
    since = [float(p) for p in pending if isinstance(p, bytes) and p.isdigit()]
    return Progress(
        waiting=len(ready),
        oldest_wait_s=max(0.0, (now - min(since)) / 1000) if since else 0.0,
        since_served_s=(now - float(served)) / 1000
        if isinstance(served, bytes) and served.isdigit()
        else None,
    )


@dataclass
class CameraState:
    camera_id: str
    counters: dict[str, int]
    lag_ms: float  # age of its oldest frame still waiting; 0 when none waits
    last_primary_event: str | None = None
    last_result_ms: float | None = None
    last_frame_ms: float | None = None  # when its newest frame was stored (its id)
    # When its last results were published, newest first (up to RECENT): the rate out.
    recent_results_ms: list[float] = field(default_factory=list)
    # Incidents by kind since the camera's hash began: started ("new") and ended.
    incidents_started: dict[str, int] = field(default_factory=dict)
    incidents_ended: dict[str, int] = field(default_factory=dict)
    gated: int = 0  # of the processed frames, those the change gate answered unchanged

    def fps_out(self, now_ms: float, window_ms: float = 10_000) -> float:
        """Results a second over the last ``window_ms``: when the recent ones span less
        than the window (a fast camera), over their own span."""
        recent = [t for t in self.recent_results_ms if now_ms - t <= window_ms]
        if len(recent) == len(self.recent_results_ms) == RECENT:
            span = recent[0] - recent[-1]
            return (len(recent) - 1) * 1000 / span if span > 0 else 0.0
        return len(recent) * 1000 / window_ms


@dataclass
class FleetState:
    now_ms: float
    workers: list[dict[str, Any]]
    queue_depth: int
    ready: int
    jobs: int
    cameras: list[CameraState] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    histogram: dict[str, float] = field(default_factory=dict)  # processing time
    latency: dict[str, float] = field(default_factory=dict)  # frame stored -> result out
    gate: dict[str, float] = field(default_factory=dict)  # the change gate's look at a frame
    schema_version: str | None = None
    incidents: list[OpenIncident] = field(default_factory=list)  # open now, oldest first
    # Fleet keys that hold what no fleet process writes (a hand edit, another tenant):
    # each is left out of the numbers and named here, instead of failing the whole read.
    bad_entries: list[str] = field(default_factory=list)


class _Reader:
    """Turns raw replies into numbers, recording (not raising) what does not parse."""

    def __init__(self) -> None:
        self.bad: list[str] = []

    def reject(self, what: str, why: object) -> None:
        log.warning("bad fleet entry left out: %s: %s", what, why)
        self.bad.append(f"{what}: {why}")

    def hash(self, key: str, raw: object) -> Mapping[bytes, bytes]:
        if isinstance(raw, Exception):
            self.reject(key, raw)
            return {}
        return raw if isinstance(raw, dict) else {}

    def numbers(self, key: str, raw: Mapping[bytes, bytes], names: Any = None) -> dict[str, float]:
        out = {}
        for k, v in raw.items():
            name = k.decode("utf-8", "replace")
            if names is not None and name not in names:
                continue
            try:
                out[name] = float(v)
            except ValueError:
                self.reject(f"{key} field {name}", f"{v[:40]!r} is not a number")
        return out


def read_state(client: redis.Redis, queue: str) -> FleetState:
    now = server_ms(client)
    read = _Reader()
    try:
        members: Any = client.smembers(keys.CAMERAS)
    except redis.ResponseError as exc:
        read.reject(keys.CAMERAS, exc)
        members = []
    rejected: list[str] = []
    cams = camera_ids(members, rejected)
    read.bad.extend(rejected)
    pipe = client.pipeline(transaction=False)
    pipe.llen(f"rq:queue:{queue}")
    pipe.zcard(keys.READY)
    pipe.zcount(keys.JOBS, now, "+inf")
    pipe.hgetall(keys.COUNTERS)
    pipe.hgetall(keys.PROCESSING_HISTOGRAM)
    pipe.hget(keys.SCHEMA, "version")
    pipe.hgetall(keys.LATENCY_HISTOGRAM)
    pipe.hgetall(keys.GATE_HISTOGRAM)
    for cam in cams:
        pipe.hgetall(keys.camera(cam))
        pipe.xrevrange(keys.results(cam), count=RECENT)
    replies = pipe.execute(raise_on_error=False)
    depth, ready, jobs = (0 if isinstance(r, Exception) else int(r) for r in replies[:3])
    counters = read.numbers(keys.COUNTERS, read.hash(keys.COUNTERS, replies[3]))
    version = replies[5] if isinstance(replies[5], bytes) else None
    state = FleetState(
        now_ms=now,
        workers=live_workers(client),
        queue_depth=depth,
        ready=ready,
        jobs=jobs,
        counters={k: int(v) for k, v in counters.items()},
        histogram=read.numbers(
            keys.PROCESSING_HISTOGRAM, read.hash(keys.PROCESSING_HISTOGRAM, replies[4])
        ),
        schema_version=version.decode("utf-8", "replace") if version else None,
        latency=read.numbers(keys.LATENCY_HISTOGRAM, read.hash(keys.LATENCY_HISTOGRAM, replies[6])),
        gate=read.numbers(keys.GATE_HISTOGRAM, read.hash(keys.GATE_HISTOGRAM, replies[7])),
    )
    per_cam = replies[8:]
    state.cameras = [
        camera_state(read, cam, now, per_cam[2 * i], per_cam[2 * i + 1])
        for i, cam in enumerate(cams)
    ]
    state.incidents = read_open(client, read.bad)
    state.bad_entries = read.bad
    return state


def camera_state(read: _Reader, cam: str, now: float, raw: object, last: Any) -> CameraState:
    """One camera from its hash and its newest result entry."""
    key = keys.camera(cam)
    hashed = read.hash(key, raw)
    fields = read.numbers(key, hashed, (*COUNTER_FIELDS, "pending_since", "gated"))
    since = fields.get("pending_since")
    last_id = hashed.get(b"last_id", b"").split(b"-")[0]
    camera = CameraState(
        camera_id=cam,
        counters={f: int(fields.get(f, 0)) for f in COUNTER_FIELDS},
        lag_ms=max(0.0, now - since) if since is not None else 0.0,
        last_frame_ms=float(last_id) if last_id.isdigit() else None,
        gated=int(fields.get("gated", 0)),
    )
    for name, value in hashed.items():
        field_name = name.decode("utf-8", "replace")
        for prefix, counts in (
            ("incidents_started:", camera.incidents_started),
            ("incidents_ended:", camera.incidents_ended),
        ):
            if field_name.startswith(prefix) and value.isdigit():
                counts[field_name.removeprefix(prefix)] = int(value)
    if isinstance(last, Exception):
        read.reject(keys.results(cam), last)
    elif last:
        _entry_id, entry = last[0]
        camera.last_primary_event = (
            entry.get(b"primary_event", b"").decode("utf-8", "replace") or None
        )
        camera.recent_results_ms = [float(i.split(b"-")[0]) for i, _fields in last]
        camera.last_result_ms = camera.recent_results_ms[0]
    return camera
