"""``run_bench``: the phases, interleaved and repeated, and their medians."""

from __future__ import annotations

import os
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rq import Queue

from is21.lab.bench.alone import AloneRun, DetectorAlone, ceiling_at, detector_alone
from is21.lab.bench.drive import LIGHT_WARMUP, FleetRun, Phase, QuietFrames, drive
from is21.lab.bench.fairness import (
    gaps_over_bound,
    ideal_wait_ratios,
    max_gap_ratio,
    max_turns_ratio,
)
from is21.lab.bench.report import Row, percentile
from is21.lab.bench.sides import gate_capacity, push_bench_schema, quantiles
from is21.lab.bench.worker_cpu import Tally, heartbeats, tally
from is21.lab.naive_baseline import naive_workers
from is21.lab.preprocess_bench import as_1080p, compare_fresh
from is21.ops.harness import local_fleet
from is21.producer import FrameProducer
from is21.producer.replay import load_photos
from is21.schemas import keys
from is21.schemas.settings import Settings
from is21.workers.image import Letterbox


def frames_stored(producer: FrameProducer) -> int:
    """Bytes of JPEG the frame streams hold right now: frames kept x cameras x mean size."""
    total = 0
    for cam in producer.cameras():
        entries: Any = producer.client.xrange(keys.frames(cam))
        total += sum(len(f.get(b"jpeg", b"")) for _i, f in entries)
    return total


@dataclass
class Measured:
    """Everything the repeats measured, before medians are taken."""

    alone: list[tuple[AloneRun, AloneRun]] = field(default_factory=list)  # before, after
    runs: dict[Phase, list[FleetRun]] = field(default_factory=dict)
    cpu: dict[Phase, list[Tally]] = field(default_factory=dict)  # flat phases: the workers'
    paced: list[float] = field(default_factory=list)  # the detector alone at 1 image/s
    memory: dict[str, Any] = field(default_factory=dict)  # Redis, after the fleet's phases
    stored: int = 0  # bytes of JPEG the frame streams held then


def run_bench(
    settings: Settings,
    *,
    images: Path,
    workers: int,
    cameras: list[int],
    seconds: float,
    repeats: int = 3,
    warmup: float = 2.0,
) -> dict[str, Any]:
    photos = [data for _name, data in load_photos(images)]
    phases = [Phase("flat", c) for c in cameras]
    untracked = Phase("flat", max(cameras), incidents=False)
    gated = Phase("quiet", max(cameras), gated=True)
    phases += [untracked, Phase("quiet", max(cameras)), gated]
    phases += [Phase("light", 1), Phase("naive", max(cameras))]
    measured = Measured(runs={phase: [] for phase in phases})
    with ExitStack() as stack:
        fleet = stack.enter_context(
            local_fleet(settings, workers=workers, prefix="bench", private=True)
        )
        naive = stack.enter_context(naive_workers(fleet.url, fleet.log_dir, workers))
        push_bench_schema(fleet.producer, phases)
        bench = Bench(settings, images, fleet.producer, naive, photos, workers, seconds, warmup)
        bench.pids = [p.pid for p in fleet.workers]
        for _ in range(repeats):
            bench.repeat(measured)
        beats = heartbeats(fleet.producer, [f"bench-{i}" for i in range(workers)])
    frames_1080p = [as_1080p(p) for p in photos]
    preprocess = compare_fresh(frames_1080p, Letterbox(416, 416, "BGR", "top-left"))
    alone_runs = [run for pair in measured.alone for run in pair]
    per_image = statistics.median(a.per_image_ms for a in alone_runs)
    rows = [alone_row(measured.alone, workers)]
    rows += [
        phase_row(phase, runs, measured.alone, workers) for phase, runs in measured.runs.items()
    ]
    dispatch = [b["dispatch_ms_p50"] for b in beats if b.get("dispatch_ms_p50") is not None]
    return {
        "cores": os.cpu_count(),
        "workers": workers,
        "repeats": repeats,
        "seconds": seconds,
        "rows": [r.__dict__ for r in rows],
        "latency_quantiles": {
            f"{p.name}, {p.cameras} cam": quantiles([x for r in runs for x in r.latencies])
            for p, runs in measured.runs.items()
        },
        "incidents_cost": incidents_cost(measured, untracked, workers),
        "gate_capacity": gate_capacity(measured, gated, workers),
        "dispatch_p50_ms": round(statistics.median(dispatch), 3) if dispatch else None,
        "worker_rss_mb": [round(b["rss_bytes"] / 2**20, 1) for b in beats if b.get("rss_bytes")],
        "redis_used_memory_mb": round(int(measured.memory.get("used_memory", 0)) / 2**20, 1),
        # The bound of the issue: frames kept x cameras x mean frame size x 1.25.
        "redis_memory_bound_mb": round(measured.stored * 1.25 / 2**20, 1),
        "preprocess_1080p": preprocess,
        "light_load_target_ms": round(per_image + 3, 2),
        "paced_per_image_ms": round(statistics.median(measured.paced), 2),
        "per_image_p99_ms": round(statistics.median(a.p99_ms for a in alone_runs), 2),
    }


def incidents_cost(measured: Measured, untracked: Phase, workers: int) -> dict[str, Any]:
    """Each repeat's ratio with incidents minus without, at the same camera count and in
    the same repeat (so the VM's drift between repeats cancels out), and their median.

    Beside it, what the VM's noise does not move (``worker_cpu.py``): the workers' CPU a
    frame spent after inference on tracks and incidents, and Redis's time a frame in the
    fleet's functions, with and without, what they add over the workers' CPU a frame; and
    the ratio change that share implies, each repeat's."""
    tracked = Phase("flat", untracked.cameras)
    rows = [phase_row(p, measured.runs[p], measured.alone, workers) for p in (tracked, untracked)]
    diffs = [round(a - b, 3) for a, b in zip(rows[0].ratios, rows[1].ratios, strict=True)]
    pairs = zip(measured.cpu[tracked], measured.cpu[untracked], rows[1].ratios, strict=True)
    per_frame = [(a.per_frame(), b.per_frame(), ratio) for a, b, ratio in pairs]
    cpu = [(a, b, ratio) for a, b, ratio in per_frame if a and b]
    # ms a frame the incidents add: in the workers, and in Redis's functions
    extra = [(a.tracking_ms - b.tracking_ms, a.functions_ms - b.functions_ms) for a, b, _ in cpu]
    share = [(w + r) / a.cpu_ms for (w, r), (a, _, _) in zip(extra, cpu, strict=True)]
    implied = [-ratio * s for s, (_, _, ratio) in zip(share, cpu, strict=True)]

    def median(values: list[float], digits: int) -> float | None:
        return round(statistics.median(values), digits) if values else None

    return {
        "cameras": untracked.cameras,
        "ratio_with_minus_without": diffs,
        "median": median(diffs, 3),
        "tracking_ms_with": median([a.tracking_ms for a, _, _ in cpu], 3),
        "tracking_ms_without": median([b.tracking_ms for _, b, _ in cpu], 3),
        "functions_ms_with": median([a.functions_ms for a, _, _ in cpu], 3),
        "functions_ms_without": median([b.functions_ms for _, b, _ in cpu], 3),
        "worker_cpu_ms_with": median([a.cpu_ms for a, _, _ in cpu], 2),
        "share": median(share, 4),
        "implied": [round(x, 4) for x in implied],
        "implied_median": median(implied, 4),
    }


@dataclass
class Bench:
    settings: Settings
    images: Path
    producer: FrameProducer
    naive: Queue
    photos: list[bytes]
    workers: int
    seconds: float
    warmup: float
    quiet: QuietFrames | None = None
    pids: list[int] = field(default_factory=list)  # the workers' (worker_cpu.py)

    def __post_init__(self) -> None:
        self.quiet = QuietFrames(self.photos)

    def repeat(self, measured: Measured) -> None:
        """One repeat: the detector alone for half its time, the flat-out phases, the naive
        one, the detector alone again, then the light phase beside the paced detector."""
        before = self.alone(self.seconds / 2)
        self.drive(measured, "flat")
        self.drive(measured, "quiet")
        if not measured.memory:  # the fleet's own keys, before any naive job adds its own
            measured.memory = self.producer.client.info("memory")
            measured.stored = frames_stored(self.producer)
        self.drive(measured, "naive")
        measured.alone.append((before, self.alone(self.seconds / 2)))
        # The detector alone at the light phase's 1 image/s, in the same seconds: half a
        # second after each of its frames, so the two never overlap but drift alike.
        paced = DetectorAlone(self.settings, self.images, 1, self.seconds, fps=1.0)
        begin = time.monotonic() + 0.05
        paced.start(begin + LIGHT_WARMUP + 0.5)
        time.sleep(max(0.0, begin - time.monotonic()))
        self.drive(measured, "light")
        measured.paced.append(paced.result().per_image_ms)

    def alone(self, seconds: float) -> AloneRun:
        return detector_alone(self.settings, self.images, self.workers, seconds)

    def drive(self, measured: Measured, kind: str) -> None:
        """Each phase of ``kind`` once. Phases compared side by side (with and without
        incidents, gated and not) run in one order in even repeats and in the other in odd
        ones, so that the VM's drift within a repeat falls on both alike."""
        phases = [(phase, runs) for phase, runs in measured.runs.items() if phase.kind == kind]
        if len(measured.alone) % 2:  # the repeats done so far
            phases.reverse()
        names = [f"bench-{i}" for i in range(self.workers)]
        for phase, runs in phases:
            before = tally(self.producer, names, self.pids) if kind == "flat" else None
            if kind == "light":
                run = drive(self.producer, self.photos, 1, self.seconds, LIGHT_WARMUP, 1.0, kind)
            else:
                run = drive(
                    self.producer,
                    self.photos,
                    phase.cameras,
                    self.seconds,
                    self.warmup,
                    None,
                    phase.tag,
                    self.naive if kind == "naive" else None,
                    self.quiet if kind == "quiet" else None,
                )
            runs.append(run)
            if before is not None:  # the phase has settled: its frames are all counted
                measured.cpu.setdefault(phase, []).append(
                    tally(self.producer, names, self.pids) - before
                )


def alone_row(alone: list[tuple[AloneRun, AloneRun]], workers: int) -> Row:
    alone_runs = [run for pair in alone for run in pair]
    return Row(
        "detector alone",
        0,
        workers,
        round(statistics.median((a.rate + b.rate) / 2 for a, b in alone), 2),
        per_image_ms=round(statistics.median(a.per_image_ms for a in alone_runs), 2),
        runs=[round(a.rate, 2) for a in alone_runs],
    )


def phase_row(
    phase: Phase, runs: list[FleetRun], alone: list[tuple[AloneRun, AloneRun]], workers: int
) -> Row:
    # Each repeat's fleet phase against the detector alone at that moment of the repeat;
    # the light phase has its own ceiling (the paced detector), not a ratio.
    pairs = zip(runs, alone, strict=True)
    light = phase.kind == "light"
    ratios = [] if light else [r.rate / ceiling_at(r.at, *a) for r, a in pairs]
    res = [x for r in runs for x in r.results]
    # Age when its detection started: the wait to be claimed, then in hand (naive: none).
    ages = [] if phase.kind == "naive" else [x.queue_ms + x.held_ms for x in res]
    row = Row(
        phase.name,
        phase.cameras,
        workers,
        round(statistics.median(r.rate for r in runs), 2),
        ratio=round(statistics.median(ratios), 3) if ratios else None,
        latency_p50_ms=percentile([x for r in runs for x in r.latencies], 50),
        latency_p99_ms=percentile([x for r in runs for x in r.latencies], 99),
        frame_age_p50_ms=percentile(ages, 50),
        frame_age_p99_ms=percentile(ages, 99),
        processing_p50_ms=percentile([x.processing_ms for x in res], 50),
        added_p50_ms=percentile([x for r in runs for x in r.added], 50) if light else None,
        skipped=sum(r.skipped for r in runs),
        expired=sum(r.expired for r in runs),
        runs=[round(r.rate, 2) for r in runs],
        ratios=[round(x, 3) for x in ratios],
    )
    if phase.kind == "flat":
        add_fairness(row, phase.cameras, runs, alone, workers)
    return row


def add_fairness(
    row: Row,
    cameras: int,
    runs: list[FleetRun],
    alone: list[tuple[AloneRun, AloneRun]],
    workers: int,
) -> None:
    """The starvation checks, on the fleet's services and on the detector alone's own
    timings (each repeat's two runs) served round robin at no cost."""
    gap = [g for r in runs if (g := max_gap_ratio(r.results, cameras, workers)) is not None]
    turns = [t for r in runs if (t := max_turns_ratio(r.results, cameras, workers)) is not None]
    row.max_gap_ratio = round(statistics.median(gap), 3)
    row.max_turns_ratio = round(statistics.median(turns), 3)
    counts = [gaps_over_bound(r.results, cameras, workers) for r in runs]
    row.gaps_over_bound = [sum(x) for x in zip(*counts, strict=True)]
    ideal = [
        ideal_wait_ratios(a.starts, cameras, workers)
        + ideal_wait_ratios(b.starts, cameras, workers)
        for a, b in alone
    ]
    if ideal and all(ideal):
        row.ideal_gap_ratio = round(statistics.median(max(w) for w in ideal), 3)
    row.ideal_over_bound = [sum(map(len, ideal)), sum(x > 1 for w in ideal for x in w)]
