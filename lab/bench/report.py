"""The bench's table: one row per phase, and the lines under it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from is21.lab.bench.fairness import STALL
from is21.workers import stats


def percentile(values: list[float], q: float) -> float | None:
    value = stats.percentile(values, q)
    return None if value is None else round(value, 2)


@dataclass
class Row:
    phase: str
    cameras: int
    workers: int
    results_per_s: float
    ratio: float | None = None  # median over repeats of each repeat's own ratio
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    dispatch_p50_ms: float | None = None
    frame_age_p50_ms: float | None = None
    frame_age_p99_ms: float | None = None
    max_gap_ratio: float | None = None  # worst wait between services / the starvation bound
    max_turns_ratio: float | None = None  # the same wait counted in services, not seconds
    # Waits; over the bound in seconds; of those, spanning a stall; of all, spanning one.
    gaps_over_bound: list[int] | None = None
    # The same checks on the detector alone's own timings, served round robin at no cost.
    ideal_gap_ratio: float | None = None
    ideal_over_bound: list[int] | None = None  # waits; over the bound
    skipped: int = 0
    expired: int = 0
    per_image_ms: float | None = None
    processing_p50_ms: float | None = None  # decode + inference + decoding, in the worker
    added_p50_ms: float | None = None  # latency minus that frame's processing (light phase)
    runs: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


def format_table(report: dict[str, Any]) -> str:
    def fmt(v: Any, unit: str = "") -> str:
        return "-" if v is None else f"{v}{unit}"

    lines = [
        f"cores: {report['cores']}   workers: {report['workers']}   repeats: "
        f"{report['repeats']} x {report['seconds']}s (medians; runs in brackets; the "
        "detector alone runs half its time before the flat-out and naive phases, half after)",
        f"{'phase':<17} {'cams':>4} {'results/s':>9} {'ratio':>6} {'lat p50':>9} "
        f"{'lat p99':>9} {'age p50':>8} {'age p99':>8} {'gap/bound':>9} {'turns':>6} "
        f"{'skipped':>7} {'expired':>7}  runs",
    ]
    for r in report["rows"]:
        lines.append(
            f"{r['phase']:<17} {r['cameras'] or '-':>4} {r['results_per_s']:>9} "
            f"{fmt(r['ratio']):>6} {fmt(r['latency_p50_ms'], 'ms'):>9} "
            f"{fmt(r['latency_p99_ms'], 'ms'):>9} {fmt(r['frame_age_p50_ms'], 'ms'):>8} "
            f"{fmt(r['frame_age_p99_ms'], 'ms'):>8} {fmt(r['max_gap_ratio']):>9} "
            f"{fmt(r['max_turns_ratio']):>6} "
            f"{r['skipped']:>7} {r['expired']:>7}  {r['runs']}"
            + (f" ratios {r['ratios']}" if r["ratios"] else "")
        )
    alone = report["rows"][0]
    light = next(r for r in report["rows"] if r["phase"] == "fleet light 1fps")
    lines += [
        f"detector alone: {alone['per_image_ms']} ms per image per process (p99 "
        f"{report['per_image_p99_ms']} ms: the machine's own stalls); light-load "
        f"target (that + 3 ms): {report['light_load_target_ms']} ms; in the light phase "
        f"the worker's own decode+inference p50 was {light['processing_p50_ms']} ms",
        f"detector alone paced at 1 image/s, half a second after each of the light "
        f"phase's frames (as cold, in the same seconds): {report['paced_per_image_ms']} ms "
        f"per image; that + 3 ms: {round(report['paced_per_image_ms'] + 3, 2)} ms",
        f"light phase, each frame's submit->result minus its own decode+inference (what "
        f"the fleet adds): p50 {light['added_p50_ms']} ms",
        "waits of a camera between two services over the bound in seconds: "
        + "; ".join(
            f"{r['cameras']} cams {over} of {n}, {stalled} of them spanning a frame that "
            f"stalled (over {STALL}x its run's median; {round(100 * spanned / n)} % of all "
            "waits did)"
            for r in report["rows"]
            if r["gaps_over_bound"] and r["cameras"] > 1
            for n, over, stalled, spanned in [r["gaps_over_bound"]]
        ),
        "the same on the detector alone's own timings (its processes' image starts, the "
        "cameras served round robin at no cost: what the machine's stalls alone put over "
        "the bound): "
        + "; ".join(
            f"{r['cameras']} cams {over} of {n} (worst per repeat, median: {r['ideal_gap_ratio']})"
            for r in report["rows"]
            if r["ideal_over_bound"] and r["cameras"] > 1
            for n, over in [r["ideal_over_bound"]]
        ),
        f"dispatch overhead per frame (workers' own p50): {report['dispatch_p50_ms']} ms",
        "incidents (tracking, lifecycle, their writes) at {cameras} cameras: ratio with minus "
        "without, per repeat {ratio_with_minus_without}, median {median}; in the workers, "
        "after inference, {tracking_ms_with} ms of CPU a frame with them, {tracking_ms_without} "
        "ms without, and Redis's functions {functions_ms_with} ms a frame with them, "
        "{functions_ms_without} ms without; what they add, of the workers' "
        "{worker_cpu_ms_with} ms a frame: a share of {share}, a ratio change of {implied} "
        "per repeat, median {implied_median}".format(**report["incidents_cost"]),
        "change gate at {cameras} cameras, 80% quiet frames: {gated_per_s} results/s gated "
        "({share} of them gated) vs {ungated_per_s} ungated; gated/ungated per repeat "
        "{ratios}, median {median}".format(
            **report["gate_capacity"], share=report["gate_capacity"]["gated_share"]
        ),
        f"worker RSS: {report['worker_rss_mb']} MB   redis used_memory: "
        f"{report['redis_used_memory_mb']} MB (bound: frames kept x mean size x 1.25 = "
        f"{report['redis_memory_bound_mb']} MB)",
        *(
            f"1080p frame -> 416x416 input, {state} memory: reduced-scale decode "
            f"{pre['reduced_ms']} ms vs plain {pre['plain_ms']} ms (ratio {pre['ratio']})"
            for state, pre in report["preprocess_1080p"].items()
        ),
    ]
    return "\n".join(lines)
