"""What an ``is21 chaos`` run records, and the report it prints: the faults it injected,
the camera server's ledger, the longest time a camera went unserved and its cause, and
the per-minute table that shows a worker which did not come back after a fault."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from is21.lab.sentinel_cluster import MASTER

FAULTS = ("kill", "stop", "cut", "restart", "failover")


@dataclass
class Fault:
    kind: str
    target: str
    start: float  # wall time
    end: float = 0.0
    promoted_s: float | None = None  # a failover: the kill to most sentinels naming another


@dataclass
class Run:
    faults: list[Fault] = field(default_factory=list)
    accounts: dict[str, Any] = field(default_factory=dict)
    worst_gap_s: float = 0.0
    worst_camera: str = ""
    worst_cause: str = ""
    unexplained_lost: list[str] = field(default_factory=list)
    minutes: list[dict[str, Any]] = field(default_factory=list)  # start, seconds, results by worker
    live: list[tuple[float, int]] = field(default_factory=list)  # (wall time, live workers)
    live_at_end: list[str] = field(default_factory=list)
    replication: str = ""
    switches: list[str] = field(default_factory=list)  # the sentinels' +switch-master lines
    # start (wall time), and results and fallbacks per second since it (JSON: str keys)
    timeline: dict[str, Any] = field(default_factory=dict)

    def explain(self, gaps: dict[str, tuple[float, float]]) -> None:
        """Every lost frame next to a failover; the longest wait for a result (``gaps``:
        per camera, as the camera server saw it), and the fault that caused it."""
        failovers = [f for f in self.faults if f.kind == "failover"]
        for account in self.accounts.values():
            for fid in account["lost"]:
                ms = int(fid.split("-")[0]) / 1000
                if not any(f.start - 3 <= ms <= f.start + 1 for f in failovers):
                    self.unexplained_lost.append(fid)
        for cam, (a, b) in gaps.items():
            if b - a > self.worst_gap_s:
                self.worst_gap_s, self.worst_camera = b - a, cam
                before = [f for f in self.faults if f.start <= b and f.end >= a - 5]
                self.worst_cause = (
                    f"{before[-1].kind} {before[-1].target}" if before else "no fault"
                )

    def balanced(self) -> bool:
        """Every camera's frames accounted for: submitted = the sum of what became of them."""
        return all(
            a["submitted"]
            == a["fallback"] + a["processed"] + a["failed"] + a["superseded"] + len(a["lost"])
            for a in self.accounts.values()
        )


def format_ledger(run: Run) -> str:
    lines = [
        "| camera | submitted | fallback | processed | failed | skipped or expired | lost |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    total: dict[str, int] = {}
    for cam, a in sorted(run.accounts.items()):
        row = {k: a[k] for k in ("submitted", "fallback", "processed", "failed", "superseded")}
        row["lost"] = len(a["lost"])
        for k, v in row.items():
            total[k] = total.get(k, 0) + v
        lines.append(f"| {cam} | " + " | ".join(str(v) for v in row.values()) + " |")
    lines.append("| all | " + " | ".join(str(v) for v in total.values()) + " |")
    kinds = {k: sum(f.kind == k for f in run.faults) for k in FAULTS}
    lines.append(f"\nfaults: {kinds}; master name {MASTER}")
    failovers = [f for f in run.faults if f.kind == "failover"]
    took = sorted(f.promoted_s for f in failovers if f.promoted_s is not None)
    if failovers:
        named = (
            f"median {statistics.median(took):.1f} s, {took[0]:.1f} to {took[-1]:.1f} s"
            if took
            else "never"
        )
        lines.append(
            f"failovers: another master named after the kill: {named}; "
            f"not within 30 s: {len(failovers) - len(took)}"
        )
    lines.append(
        f"longest a camera went unserved: {run.worst_gap_s:.1f} s ({run.worst_camera}), "
        f"after: {run.worst_cause}"
    )
    lines.append(f"lost frames not explained by a failover: {len(run.unexplained_lost)}")
    lines += ["", *format_minutes(run)]
    lines.append(f"\nalive at the end: {', '.join(run.live_at_end) or 'none'}")
    lines.append(f"redis at the end: {run.replication}")
    asked = sum(f.kind == "failover" for f in run.faults)
    lines.append(f"master switches a sentinel logged: {len(run.switches)} ({asked} failovers)")
    lines += [f"  {line}" for line in run.switches]
    return "\n".join(lines)


def format_minutes(run: Run) -> list[str]:
    """Per minute: results a second, by worker, the fewest workers alive, the faults."""
    names = sorted({w for m in run.minutes for w in m["workers"]})
    lines = [
        "| minute | results/s | " + " | ".join(names) + " | fewest alive | faults |",
        "| --- | --- | " + "--- | " * len(names) + "--- | --- |",
    ]
    for i, m in enumerate(run.minutes):
        start, end = m["start"], m["start"] + 60
        alive = [n for t, n in run.live if start <= t < end]
        faults = [f"{f.kind} {f.target}" for f in run.faults if start <= f.start < end]
        row = [
            str(i),
            f"{sum(m['workers'].values()) / max(m['seconds'], 1):.1f}",
            *(str(m["workers"].get(w, 0)) for w in names),
            str(min(alive)) if alive else "-",
            ", ".join(faults),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return lines
