"""The detector alone: the fleet's ceiling, in processes of its own (no Redis, no RQ)."""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from is21.producer.replay import load_photos
from is21.schemas.settings import Settings
from is21.workers.stats import percentile


def _detector_loop(
    settings: Settings, images: Path, seconds: float, fps: float | None, out: Any, go: Any
) -> None:
    from is21.workers.detector import detectors_from_settings

    detectors = detectors_from_settings(settings)
    photos = [data for _name, data in load_photos(images)]
    for data in photos[:3]:  # warm-up
        for d in detectors:
            d.detect(data, settings.max_pixels)
    out.put("ready")
    # CLOCK_MONOTONIC: one clock for every process of the bench, so the parent can say
    # when to start (all processes at once; the paced one between the light phase's frames).
    start = go.get(timeout=600)  # the parent's go; it never waits that long
    time.sleep(max(0.0, start - time.monotonic()))
    count, times, starts = 0, [], []
    end = start + seconds
    while (t0 := time.monotonic()) < end:
        for d in detectors:
            d.detect(photos[count % len(photos)], settings.max_pixels)
        times.append((time.monotonic() - t0) * 1000)
        starts.append(t0)
        count += 1
        if fps is not None:  # paced like the light fleet phase: caches go cold between
            time.sleep(max(0.0, start + count / fps - time.monotonic()))
    out.put((count, statistics.median(times), percentile(times, 99), (start + end) / 2, starts))


@dataclass
class AloneRun:
    rate: float  # images/s over all processes
    per_image_ms: float  # median
    p99_ms: float
    at: float  # time.monotonic() at the middle of the measured window
    starts: list[list[float]] = field(default_factory=list)  # each process's images'


class DetectorAlone:
    """The detector alone in ``workers`` processes (``fps`` paces each), loaded and warm
    on construction; ``start(at)`` sets them off together at ``at`` (time.monotonic())."""

    def __init__(
        self, settings: Settings, images: Path, workers: int, seconds: float, fps: float | None
    ) -> None:
        ctx = mp.get_context("spawn")
        self.seconds, self.out, self.go = seconds, ctx.Queue(), ctx.Queue()
        self.procs = [
            ctx.Process(
                target=_detector_loop, args=(settings, images, seconds, fps, self.out, self.go)
            )
            for _ in range(workers)
        ]
        for p in self.procs:
            p.start()
        for _ in self.procs:
            self.out.get(timeout=120)  # "ready"

    def start(self, at: float) -> None:
        for _ in self.procs:
            self.go.put(at)

    def result(self) -> AloneRun:
        results = [self.out.get(timeout=self.seconds + 120) for _ in self.procs]
        for p in self.procs:
            p.join()
        return AloneRun(
            sum(r[0] for r in results) / self.seconds,
            statistics.median(r[1] for r in results),
            max(r[2] for r in results),
            statistics.mean(r[3] for r in results),
            [r[4] for r in results],
        )


def detector_alone(settings: Settings, images: Path, workers: int, seconds: float) -> AloneRun:
    run = DetectorAlone(settings, images, workers, seconds, None)
    run.start(time.monotonic())
    return run.result()


def ceiling_at(at: float, before: AloneRun, after: AloneRun) -> float:
    """The detector alone's rate at time ``at``, interpolated between the runs measured
    before and after it: within one repeat the VM's speed drifts by as much as the
    margin measured, and linear drift cancels out this way."""
    if after.at <= before.at:
        return (before.rate + after.rate) / 2
    w = min(max((at - before.at) / (after.at - before.at), 0.0), 1.0)
    return before.rate + (after.rate - before.rate) * w
