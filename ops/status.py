"""``is21 status``: what the fleet is doing, for an operator at a terminal or a script."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import redis

from is21.ops.fleet_state import FleetState, read_state
from is21.ops.problems import read_problems
from is21.schemas import keys
from is21.schemas.settings import Settings


class Rates:
    """Per-second rates of counters against a reading ``seconds`` earlier."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, now: int, then: int | None) -> float | None:
        if then is None or self.seconds <= 0:
            return None
        return round((now - then) / self.seconds, 2)


def worker_rows(state: FleetState, before: FleetState | None, rate: Rates) -> list[dict[str, Any]]:
    prev = {w.get("worker"): w for w in before.workers} if before else {}

    def done(w: dict[str, Any]) -> int:
        return int(w.get("frames_processed", 0)) + int(w.get("frames_failed", 0))

    rows = []
    for w in state.workers:
        p = prev.get(w.get("worker"))
        beat = w.get("beat_at")
        rows.append(
            {
                "worker": w.get("worker"),
                "npu_core": w.get("npu_core"),
                "backend": w.get("backend"),
                "models": [m.get("name") for m in w.get("models", []) if isinstance(m, dict)],
                "fps": rate(done(w), done(p) if p else None),
                "last_inference_at": w.get("last_inference_at"),
                "heartbeat_age_s": round(state.now_ms / 1000 - beat, 1)
                if isinstance(beat, int | float)
                else None,
                "processing_ms_p50": w.get("processing_ms_p50"),
            }
        )
    return rows


def camera_rows(state: FleetState, before: FleetState | None, rate: Rates) -> list[dict[str, Any]]:
    prev = {c.camera_id: c for c in before.cameras} if before else {}
    rows = []
    for c in state.cameras:
        pc = prev.get(c.camera_id)
        done = c.counters["processed"] + c.counters["failed"]
        rows.append(
            {
                "camera_id": c.camera_id,
                "fps_in": rate(c.counters["submitted"], pc.counters["submitted"] if pc else None),
                "fps_processed": rate(
                    done, pc.counters["processed"] + pc.counters["failed"] if pc else None
                ),
                **c.counters,
                "lag_s": round(c.lag_ms / 1000, 2),
                "last_primary_event": c.last_primary_event,
            }
        )
    return rows


def recent_events(client: redis.Redis, count: int = 5) -> list[dict[str, Any]]:
    raw: Any = client.xrevrange(keys.EVENTS, count=count)
    return [
        {
            "at": datetime.fromtimestamp(int(i.split(b"-")[0]) / 1000, UTC).isoformat(),
            "camera_id": f.get(b"camera_id", b"").decode("utf-8", "replace"),
            "primary_event": f.get(b"primary_event", b"").decode("utf-8", "replace"),
        }
        for i, f in raw
    ]


def snapshot(
    client: redis.Redis, settings: Settings, before: FleetState | None, seconds: float
) -> dict[str, Any]:
    """The state now, with rates computed against ``before`` (``seconds`` earlier)."""
    state = read_state(client, settings.queue)
    rate = Rates(seconds)
    problems = read_problems(client, settings, state.workers)
    missing = [
        {"worker": p["worker"], "missing": True, "heartbeat_age_s": p["last_seen_s"]}
        for p in problems
        if p.get("missing")
    ]
    return {
        "problems": problems,
        "bad_entries": state.bad_entries,
        "workers": worker_rows(state, before, rate) + missing,
        "queue_depth": state.queue_depth,
        "ready": state.ready,
        "dispatch_jobs": state.jobs,
        "schema_version": state.schema_version,
        "fallbacks": {
            name.removeprefix("fallback:"): value
            for name, value in state.counters.items()
            if name.startswith("fallback:")
        },
        "cameras": camera_rows(state, before, rate),
        "recent_events": recent_events(client),
        "_state": state,
    }


def render(snap: dict[str, Any]) -> str:
    def v(x: Any) -> str:
        return "-" if x is None else str(x)

    out = [
        f"workers: {sum(not w.get('missing') for w in snap['workers'])} alive of "
        f"{len(snap['workers'])} expected   queue: {snap['queue_depth']}   "
        f"ready cameras: {snap['ready']}   dispatch jobs: {snap['dispatch_jobs']}   "
        f"schema: {v(snap['schema_version'])}",
        "fallbacks (no_event answered by producers): "
        + (", ".join(f"{k} {n}" for k, n in sorted(snap["fallbacks"].items())) or "none"),
        "",
    ]
    out.append(
        f"{'worker':<24} {'core':>4} {'backend':<8} {'fps':>6} {'proc p50':>9} "
        f"{'beat age':>8}  last inference"
    )
    for w in snap["workers"]:
        if w.get("missing"):
            out.append(f"{v(w['worker']):<24} MISSING: no heartbeat for {w['heartbeat_age_s']} s")
            continue
        out.append(
            f"{v(w['worker']):<24} {v(w['npu_core']):>4} {v(w['backend']):<8} "
            f"{v(w['fps']):>6} {v(w['processing_ms_p50']):>9} "
            f"{v(w['heartbeat_age_s']):>8}  {v(w['last_inference_at'])}"
        )
    out += [
        "",
        f"{'camera':<20} {'fps in':>6} {'fps out':>7} {'submitted':>9} {'processed':>9} "
        f"{'failed':>6} {'skipped':>7} {'expired':>7} {'lag s':>6}  last event",
    ]
    for c in snap["cameras"]:
        out.append(
            f"{c['camera_id']:<20} {v(c['fps_in']):>6} {v(c['fps_processed']):>7} "
            f"{c['submitted']:>9} {c['processed']:>9} {c['failed']:>6} "
            f"{c['skipped']:>7} {c['expired']:>7} {c['lag_s']:>6}  "
            f"{v(c['last_primary_event'])}"
        )
    if snap["problems"]:
        out += ["", "problems:"]
        out += [f"  {p.get('worker')}: {p.get('error')}" for p in snap["problems"]]
    if snap["bad_entries"]:
        out += ["", "bad fleet entries (left out of the numbers):"]
        out += [f"  {bad}" for bad in snap["bad_entries"]]
    out += ["", "recent events:"]
    out += [
        f"  {e['at']}  {e['camera_id']:<20} {e['primary_event']}" for e in snap["recent_events"]
    ] or ["  (none)"]
    return "\n".join(out)


def run_status(
    client: redis.Redis, settings: Settings, *, once: bool, as_json: bool, interval: float = 1.0
) -> None:
    live = sys.stdout.isatty() and not once and not as_json
    before = read_state(client, settings.queue)
    time.sleep(interval)
    while True:
        snap = snapshot(client, settings, before, interval)
        before = snap.pop("_state")
        if as_json:
            print(json.dumps(snap))
        else:
            print(("\x1b[2J\x1b[H" if live else "") + render(snap), flush=True)
        if not live:
            return
        time.sleep(interval)
