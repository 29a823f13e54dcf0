"""The bench's side-by-side parts: which cameras of which phase run with incidents and the
change gate (the event schema it pushes), the gate's capacity figure from the two quiet
phases, and a phase's latency percentiles for the plots."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from is21.lab.bench.drive import Phase
from is21.producer import FrameProducer
from is21.schemas.events import DEFAULT_SCHEMA

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
