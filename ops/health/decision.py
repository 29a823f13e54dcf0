"""The ``/healthz`` answer: a pure function of one snapshot of the fleet, so every state
is22 may meet can be tested without Redis, workers or HTTP.

is22 treats anything but 200 as "the fleet cannot answer": it sends ``no_event`` rather
than wait. So 200 means a live worker with a working model would serve a frame now; a
missing worker among live ones is a problem to list, not a reason to stop asking.

The body has the same keys in every state (``null`` where a value is unknown), as
docs/protocol.md describes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from is21.ops.problems import one_line

Body = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """What one probe read. ``unreachable``/``bad_schema``: why the reads stopped short."""

    workers: list[dict[str, Any]] = field(default_factory=list)  # live heartbeats
    schema_version: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)  # ops/problems.py
    uptime_s: float = 0.0  # of this endpoint, not of the fleet
    unreachable: str | None = None
    bad_schema: str | None = None


def decide(snap: Snapshot) -> tuple[int, Body]:
    """The status code and body; the first reason found is the one given."""
    body = shape(snap)
    if snap.unreachable is not None:
        return 503, {**body, "status": "down", "reason": snap.unreachable}
    if snap.bad_schema is not None:
        return 503, {
            **body,
            "status": "degraded",
            "reason": f"stored schema is bad: {snap.bad_schema}",
        }
    reason = unhealthy(snap, body["workers_serving"])
    if reason is not None:
        return 503, {**body, "status": "down" if not snap.workers else "degraded", "reason": reason}
    return 200, {**body, "status": "ok", "workers": body["workers_serving"]}


def shape(snap: Snapshot) -> Body:
    """Every key, with what the snapshot knows."""
    known = snap.unreachable is None
    loaded = [w for w in snap.workers if w.get("model_loaded")]
    missing = sum(1 for p in snap.problems if p.get("missing"))
    last = max(
        (str(w["last_inference_at"]) for w in loaded if w.get("last_inference_at")),
        default=None,
    )
    return {
        "status": None,
        "reason": None,
        "redis": "ok" if known else "unreachable",
        "schema_version": snap.schema_version,
        "workers_alive": len(snap.workers) if known else None,
        "workers_serving": len(loaded) if known else None,
        "workers_expected": len(snap.workers) + missing if known else None,
        "model_loaded": bool(loaded) if known else None,
        "last_inference_at": last,
        "problems": [one_line(p) for p in snap.problems],
        "endpoint_uptime_s": round(snap.uptime_s, 1),
        # Deprecated (CHANGELOG): the names these had; removed in the next release.
        "workers": len(snap.workers) if known else None,
        "uptime_sec": round(snap.uptime_s, 1),
    }


def unhealthy(snap: Snapshot, serving: int) -> str | None:
    """Why no frame would be served now, or None."""
    problems = snap.problems
    if not snap.workers:
        return "no live worker" + (f": {one_line(problems[0])}" if problems else "")
    stuck = [str(p["worker"]) for p in problems if p.get("stuck")]
    if stuck:
        return f"worker stuck in detection: {', '.join(stuck)}"
    if not serving:
        return "no live worker has a model loaded"
    blind = [str(p["error"]) for p in problems if p.get("blind")]
    return blind[0] if blind else None
