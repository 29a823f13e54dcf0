"""The bench's side-by-side parts: which cameras of which phase run with incidents and the
change gate (the event schema it pushes), what incidents cost and the gate's capacity
from the phases run side by side, and a phase's latency percentiles for the plots."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

from is21.lab.bench.drive import FleetRun, Phase
from is21.lab.bench.report import Row
from is21.producer import FrameProducer
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Result
from is21.workers.incidents.follow import follow

if TYPE_CHECKING:
    from is21.lab.bench.run import Measured


def quantiles(values: list[float]) -> list[float]:
    """The 1st to 99th percentiles, for a distribution's curve; [] for too few values."""
    if len(values) < 2:
        return []
    return [round(q, 2) for q in statistics.quantiles(values, n=100, method="inclusive")]


def push_bench_schema(producer: FrameProducer, phases: list[Phase]) -> None:
    """The default event schema, but for each phase's cameras: no incidents where the
    phase says so, and the change gate off but in the gated phase. The quiet phases track
    nothing either: their changes jump from photo to photo, which the tracker takes for
    people moving, and an open incident holds the gate open (as it must); quiet frames
    are a scene where nothing happens."""
    cameras: dict[str, dict[str, Any]] = {}
    for phase in phases:
        for i in range(phase.cameras):
            override: dict[str, Any] = {} if phase.gated else {"gate": {"enabled": False}}
            if not phase.incidents or phase.kind == "quiet":
                override["tracking"] = {"incidents": False}
            if override:
                cameras[f"bench-{phase.tag}-{i:02d}"] = override
    producer.push_schema(
        {**DEFAULT_SCHEMA.model_dump(), "version": "2026-12-06.90", "cameras": cameras}
    )


def gate_capacity(measured: Measured, gated: Phase, workers: int) -> dict[str, Any]:
    """Frames a second the fleet serves flat out at 80 % quiet frames, gated over ungated,
    each repeat's phases side by side: cameras x fps one machine sustains, as a ratio."""
    ungated = Phase("quiet", gated.cameras)
    pairs = zip(measured.runs[gated], measured.runs[ungated], strict=True)
    ratios = [round(g.rate / u.rate, 2) for g, u in pairs if u.rate > 0]
    share = [sum(x.gated for x in r.results) / max(len(r.results), 1) for r in measured.runs[gated]]
    return {
        "cameras": gated.cameras,
        "gated_per_s": round(statistics.median(r.rate for r in measured.runs[gated]), 2),
        "ungated_per_s": round(statistics.median(r.rate for r in measured.runs[ungated]), 2),
        "ratios": ratios,
        "median": round(statistics.median(ratios), 2) if ratios else None,
        "gated_share": round(statistics.median(share), 3) if share else None,
    }


def incidents_cost(
    tracked: Row, untracked: Row, runs: list[FleetRun], alone: Row
) -> dict[str, Any]:
    """Each repeat's ratio with incidents minus without, at the same camera count and in
    the same repeat (so the VM's drift between repeats cancels out), and their median; and
    a bound on it that no noise blurs: ``follow``'s CPU a frame over the detector's alone
    (the least CPU a frame can take). Flat out the fleet is CPU-bound, and tracking's CPU
    can displace the detectors' at most one for one, so the ratio loses at most this
    share of itself."""
    diffs = [round(a - b, 3) for a, b in zip(tracked.ratios, untracked.ratios, strict=True)]
    follow_ms = follow_cpu(runs)
    share = follow_ms / alone.per_image_ms if alone.per_image_ms else 0.0
    return {
        "cameras": untracked.cameras,
        "ratio_with_minus_without": diffs,
        "median": round(statistics.median(diffs), 3) if diffs else None,
        "follow_cpu_ms": round(follow_ms, 3),
        "detector_ms": alone.per_image_ms,
        "share": round(share, 4),
        "ratio_bound": round((tracked.ratio or 0.0) * share, 4),
    }


def follow_cpu(runs: list[FleetRun]) -> float:
    """``follow``'s CPU a frame (ms), the phase's own results replayed camera by camera in
    the order the workers followed them."""
    spent, frames = 0.0, 0
    for run in runs:
        cameras: dict[str, list[Result]] = {}
        for result in run.results:
            cameras.setdefault(result.camera_id, []).append(result)
        for results in cameras.values():
            state = b""
            for result in sorted(results, key=lambda r: tuple(map(int, r.frame_id.split("-")))):
                started = time.thread_time()
                followed = follow(state, result, DEFAULT_SCHEMA)
                spent += time.thread_time() - started
                state = followed.state if followed is not None else state
                frames += 1
    return spent * 1000 / max(frames, 1)
