"""The ``/healthz`` answer: a pure function of one snapshot of the fleet, so every state
is22 may meet can be tested without Redis, workers or HTTP.

is22 treats anything but 200 as "the fleet cannot answer": it sends ``no_event`` rather
than wait. So 200 means a live worker with a working model would serve a frame now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """What one probe read. ``unreachable``/``bad_schema``: why the reads stopped short."""

    workers: list[dict[str, Any]] = field(default_factory=list)  # live heartbeats
    schema_version: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)  # ops/problems.py
    uptime_s: float = 0.0
    unreachable: str | None = None
    bad_schema: str | None = None


def decide(snap: Snapshot) -> tuple[int, Body]:
    """The status code and body; the first reason found is the one given."""
    if snap.unreachable is not None:
        return 503, {"status": "down", "redis": "unreachable", "reason": snap.unreachable}
    if snap.bad_schema is not None:
        return 503, {"status": "degraded", "reason": f"stored schema is bad: {snap.bad_schema}"}
    loaded = [w for w in snap.workers if w.get("model_loaded")]
    body: Body = {
        "uptime_sec": round(snap.uptime_s, 1),
        "schema_version": snap.schema_version,
        "workers": len(snap.workers),
        "model_loaded": bool(loaded),
    }
    if snap.problems:
        body["problems"] = snap.problems
    reason = unhealthy(snap, loaded)
    if reason is not None:
        status = "down" if not snap.workers else "degraded"
        return 503, {"status": status, "reason": reason, **body}
    last = max(
        (str(w["last_inference_at"]) for w in loaded if w.get("last_inference_at")),
        default=None,
    )
    return 200, {"status": "ok", "last_inference_at": last, **body, "workers": len(loaded)}


def unhealthy(snap: Snapshot, loaded: list[dict[str, Any]]) -> str | None:
    """Why no frame would be served now, or None."""
    problems = snap.problems
    if not snap.workers:
        return "no live worker" + (f": {problems[0]['error']}" if problems else "")
    stuck = [str(p["worker"]) for p in problems if p.get("stuck")]
    if stuck:
        return f"worker stuck in detection: {', '.join(stuck)}"
    if not loaded:
        return "no live worker has a model loaded"
    blind = [str(p["error"]) for p in problems if p.get("blind")]
    return blind[0] if blind else None
