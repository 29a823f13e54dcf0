"""``is21 status``: what the fleet is doing, for an operator at a terminal or a script.

The facts (``snapshot``) are one JSON object for ``--json``; ``status_view.py`` lays the
same facts out to fit a terminal (80x24 at least). Rates use Redis's clock: cameras' from
their counters over the refresh interval and their recent results' ids, workers' from
their own heartbeat (a reader sampling two heartbeats reads 0 or double).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from datetime import UTC, datetime
from typing import Any

import redis

from is21.ops.fleet_state import CameraState, FleetState, read_state
from is21.ops.problems import ago, one_line, read_problems
from is21.ops.status_view import render
from is21.protocol.schema_store import SchemaError, load_schema
from is21.schemas import keys
from is21.schemas.settings import Settings

SILENT_S = 10.0  # a camera without a frame for longer is named in the banner
FORGOTTEN_S = 86_400.0  # ... unless it has been silent for a day: retired, not broken


def when(ms: float | None) -> str | None:
    """ISO 8601 in UTC to the second, ``Z``: what a person reads in a table."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def age_s(now_ms: float, ms: float | None) -> float | None:
    return None if ms is None else round(max(0.0, now_ms - ms) / 1000, 1)


def worker_rows(state: FleetState, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for w in state.workers:
        beat = w.get("beat_at")
        rows.append(
            {
                "worker": w.get("worker"),
                "alive": True,
                "npu_core": w.get("npu_core"),
                "backend": w.get("backend"),
                "fps": w.get("fps"),
                "processing_ms_p50": w.get("processing_ms_p50"),
                "heartbeat_age_s": round(state.now_ms / 1000 - beat, 1)
                if isinstance(beat, int | float)
                else None,
                "last_inference_at": w.get("last_inference_at"),
                "stuck": bool(w.get("stuck")),
            }
        )
    rows += [
        {
            "worker": p["worker"],
            "alive": False,
            "missing": True,
            "heartbeat_age_s": p["last_seen_s"],
        }
        for p in problems
        if p.get("missing")
    ]
    return rows


def camera_row(
    c: CameraState, before: CameraState | None, now: float, seconds: float
) -> dict[str, Any]:
    fps_in = None
    if before is not None and seconds > 0:
        fps_in = round((c.counters["submitted"] - before.counters["submitted"]) / seconds, 2)
    return {
        "camera_id": c.camera_id,
        "fps_in": fps_in,
        "fps_out": round(c.fps_out(now), 2),
        "last_frame_age_s": age_s(now, c.last_frame_ms),
        "last_result_age_s": age_s(now, c.last_result_ms),
        "lag_s": round(c.lag_ms / 1000, 2),
        **c.counters,
        "gated": c.gated,
        "last_primary_event": c.last_primary_event,
    }


def banner(
    problems: list[dict[str, Any]],
    cameras: list[dict[str, Any]],
    fallbacks_recent: int,
    seconds: float,
) -> list[str]:
    """One line for each thing an operator must look at, the worst kinds first."""
    lines = [one_line(p) for p in problems]
    if fallbacks_recent:
        lines.insert(
            0, f"{fallbacks_recent} frames answered no_event by producers in {seconds:.0f} s"
        )
    silent = [
        c
        for c in cameras
        if c["last_frame_age_s"] is not None and SILENT_S < c["last_frame_age_s"] < FORGOTTEN_S
    ]
    for c in sorted(silent, key=lambda c: c["last_frame_age_s"])[:3]:
        lines.append(f"camera {c['camera_id']}: no frame for {ago(c['last_frame_age_s'])}")
    if len(silent) > 3:
        lines.append(f"{len(silent) - 3} more cameras without a frame for over {SILENT_S:.0f} s")
    return lines


def schema_in_force(client: redis.Redis) -> str:
    """The version /healthz names: the stored schema's, or the default's when none was
    pushed."""
    try:
        return load_schema(client).version
    except SchemaError as exc:
        return f"bad: {exc}"


def recent_events(client: redis.Redis, count: int = 5) -> list[dict[str, Any]]:
    raw: Any = client.xrevrange(keys.EVENTS, count=count)
    return [
        {
            "at": when(float(i.split(b"-")[0])),
            "camera_id": f.get(b"camera_id", b"").decode("utf-8", "replace"),
            "primary_event": f.get(b"primary_event", b"").decode("utf-8", "replace"),
        }
        for i, f in raw
    ]


def fallback_counts(state: FleetState) -> dict[str, int]:
    return {
        name.removeprefix("fallback:"): value
        for name, value in state.counters.items()
        if name.startswith("fallback:")
    }


def gate_summary(state: FleetState) -> dict[str, Any]:
    """The change gate fleet-wide: results it answered without the detectors, and the
    mean time of its look (its histogram's sum over count)."""
    looks = state.gate.get("count", 0)
    return {
        "gated": sum(c.gated for c in state.cameras),
        "processed": sum(c.counters["processed"] for c in state.cameras),
        "look_ms_mean": round(state.gate.get("sum", 0) / looks, 2) if looks else None,
    }


def snapshot(
    client: redis.Redis, settings: Settings, before: FleetState | None, seconds: float
) -> dict[str, Any]:
    """The facts now; rates against ``before`` (``seconds`` earlier)."""
    state = read_state(client, settings.queue)
    problems = read_problems(client, settings, state.workers)
    prev = {c.camera_id: c for c in before.cameras} if before else {}
    cameras = [camera_row(c, prev.get(c.camera_id), state.now_ms, seconds) for c in state.cameras]
    recent = state.counters.get("fallback", 0) - (
        before.counters.get("fallback", 0) if before else 0
    )
    workers = worker_rows(state, problems)
    return {
        "at": when(state.now_ms),
        "schema_version": schema_in_force(client),
        "banner": banner(problems, cameras, max(recent, 0), seconds),
        "problems": problems,
        "bad_entries": state.bad_entries,
        "workers_alive": sum(1 for w in workers if w["alive"]),
        "workers_expected": len(workers),
        "workers": workers,
        "queue_depth": state.queue_depth,
        "ready": state.ready,
        "dispatch_jobs": state.jobs,
        "fallbacks": fallback_counts(state),
        "gate": gate_summary(state),
        "cameras": cameras,
        "incidents": [
            {
                "id": i.id,
                "camera_id": i.camera_id,
                "kind": i.kind,
                "open_s": round(i.open_s(state.now_ms), 1),
                "tracks": i.tracks,
            }
            for i in state.incidents
        ],
        "recent_events": recent_events(client),
        "_state": state,
    }


def run_status(
    client: redis.Redis,
    settings: Settings,
    *,
    once: bool,
    as_json: bool,
    every_camera: bool = False,
    interval: float = 2.0,
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
            size = shutil.get_terminal_size((80, 24))
            rows = None if every_camera else size.lines - 1
            text = render(snap, width=size.columns, rows=rows, interval=interval)
            print(("\x1b[2J\x1b[H" if live else "") + text, flush=True)
        if not live:
            return
        time.sleep(interval)
