"""``is21 status`` as text: the same facts as ``--json``, laid out to fit a terminal.

Worst first: the banner of problems, then the workers (missing ones first), then the
cameras that need looking at (silent, lagging, failing), then the rest summed up in one
line when they do not fit. 30 cameras fit 80x24.
"""

from __future__ import annotations

from typing import Any

BANNER_LINES = 4  # more problems than this are counted, not listed
WORKER_LINES = 6


def v(x: Any, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def seconds(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.1f}s" if x < 60 else (f"{x / 60:.0f}m" if x < 3600 else f"{x / 3600:.0f}h")


def header(snap: dict[str, Any], interval: float) -> list[str]:
    fallbacks = sum(snap["fallbacks"].values())
    return [
        f"is21 status  {snap['at']}  schema {snap['schema_version']}  every {interval:.0f} s",
        f"workers {snap['workers_alive']} alive of {snap['workers_expected']} expected  "
        f"queue {snap['queue_depth']}  ready {snap['ready']}  jobs {snap['dispatch_jobs']}  "
        f"fallbacks {fallbacks}",
        gate_line(snap["gate"]),
    ]


def gate_line(gate: dict[str, Any]) -> str:
    if not gate["processed"]:
        return "change gate: no results yet"
    share = 100 * gate["gated"] / gate["processed"]
    look = "-" if gate["look_ms_mean"] is None else f"{gate['look_ms_mean']} ms"
    return (
        f"change gate: {share:.0f}% of {gate['processed']} results without the detectors, "
        f"its look {look} on average"
    )


def banner_lines(snap: dict[str, Any]) -> list[str]:
    lines = snap["banner"]
    if not lines:
        return ["no problems"]
    shown = [f"! {line}" for line in lines[:BANNER_LINES]]
    if len(lines) > BANNER_LINES:
        shown.append(f"! ... and {len(lines) - BANNER_LINES} more (is21 status --json)")
    return shown


def worker_lines(snap: dict[str, Any]) -> list[str]:
    rows = sorted(snap["workers"], key=lambda w: (w["alive"], not w.get("stuck"), str(w["worker"])))
    out = [f"{'worker':<24} {'core':>4} {'fps':>6} {'proc ms':>8} {'beat':>6}  state"]
    for w in rows[:WORKER_LINES]:
        if not w["alive"]:
            state = f"MISSING for {seconds(w['heartbeat_age_s'])}"
            out.append(f"{w['worker']!s:<24} {'':>4} {'':>6} {'':>8} {'':>6}  {state}")
            continue
        state = "STUCK" if w.get("stuck") else "ok"
        out.append(
            f"{w['worker']!s:<24} {v(w['npu_core']):>4} {v(w['fps']):>6} "
            f"{v(w['processing_ms_p50']):>8} {seconds(w['heartbeat_age_s']):>6}  {state}"
        )
    if len(rows) > WORKER_LINES:
        out.append(f"... and {len(rows) - WORKER_LINES} more workers")
    return out


def urgency(c: dict[str, Any]) -> tuple[float, ...]:
    """Cameras that need looking at first: silent, then lagging, then failing."""
    frame_age = c["last_frame_age_s"] if c["last_frame_age_s"] is not None else -1.0
    return (-frame_age if frame_age > 10 else 0.0, -c["lag_s"], -float(c["failed"]))


def camera_line(c: dict[str, Any]) -> str:
    return (
        f"{str(c['camera_id'])[:20]:<20} {v(c['fps_in']):>5} {v(c['fps_out']):>5} "
        f"{seconds(c['last_frame_age_s']):>6} {seconds(c['last_result_age_s']):>6} "
        f"{v(c['lag_s']):>5} {c['failed']:>6} {c['skipped']:>7} {gated_share(c):>6}  "
        f"{v(c['last_primary_event'])}"
    )


def gated_share(c: dict[str, Any]) -> str:
    """Of the camera's results, the share the change gate answered without the detectors."""
    return f"{100 * c['gated'] / c['processed']:.0f}%" if c["processed"] else "-"


def camera_lines(snap: dict[str, Any], room: int | None) -> list[str]:
    cams = sorted(snap["cameras"], key=urgency)
    out = [
        f"{'camera':<20} {'in/s':>5} {'out/s':>5} {'frame':>6} {'result':>6} "
        f"{'lag':>5} {'failed':>6} {'skipped':>7} {'gated':>6}  event"
    ]
    if room is not None and len(cams) > room - 1:
        shown, rest = cams[: max(room - 2, 0)], cams[max(room - 2, 0) :]
        fps_in = sum(c["fps_in"] or 0 for c in rest)
        fps_out = sum(c["fps_out"] or 0 for c in rest)
        summary = (
            f"... and {len(rest)} more cameras: in {fps_in:.1f}/s, out {fps_out:.1f}/s, "
            f"failed {sum(c['failed'] for c in rest)} (--all lists them)"
        )
        return out + [camera_line(c) for c in shown] + [summary]
    return out + [camera_line(c) for c in cams]


def incident_lines(snap: dict[str, Any], room: int | None) -> list[str]:
    """The open incidents, oldest first (an hour open is most likely a false positive)."""
    incidents = snap["incidents"]
    if not incidents:
        return []
    shown = incidents if room is None else incidents[:room]
    out = [f"incidents open: {len(incidents)}"] + [
        f"  {seconds(i['open_s']):>6}  {i['camera_id']:<20} {i['kind']:<8} "
        f"{i['tracks']} track(s)  {i['id']}"
        for i in shown
    ]
    if len(shown) < len(incidents):
        out.append(f"  ... and {len(incidents) - len(shown)} more (--all lists them)")
    return [*out, ""]


def render(
    snap: dict[str, Any], *, width: int = 80, rows: int | None = 23, interval: float = 2.0
) -> str:
    """The text; ``rows``: lines available (None: every camera, and the recent events)."""
    top = header(snap, interval) + banner_lines(snap) + [""] + worker_lines(snap) + [""]
    top += incident_lines(snap, None if rows is None else 3)
    room = None if rows is None else max(rows - len(top), 3)
    lines = top + camera_lines(snap, room)
    if rows is None:
        lines += ["", "recent events:"]
        lines += [
            f"  {e['at']}  {e['camera_id']:<20} {e['primary_event']}" for e in snap["recent_events"]
        ] or ["  (none)"]
        if snap["bad_entries"]:
            lines += ["", "bad fleet entries (left out of the numbers):"]
            lines += [f"  {bad}" for bad in snap["bad_entries"]]
    return "\n".join(line[:width] for line in lines)
