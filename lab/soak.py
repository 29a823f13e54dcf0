"""``is21 soak``: run the fleet for hours against a replaying producer and watch memory.

The seeds run unattended for days: memory growth under 1 MB/hour is the bar, over
10 MB/hour must be investigated. Every ``interval`` the soak samples each worker's RSS
(/proc), Redis's used and resident memory, results/s and submit→result latency into a
CSV, and at the end prints the slope (MB/hour, least squares) of each after the warm-up.
"""

from __future__ import annotations

import csv
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from is21.ops.harness import LocalFleet, local_fleet
from is21.producer.reader import ResultsReader
from is21.producer.replay import load_photos, replay
from is21.schemas.settings import Settings
from is21.workers.stats import rss_bytes

FIELDS = [
    "elapsed_s",
    "worker_rss_mb",  # the largest worker's
    "redis_used_mb",
    "redis_rss_mb",
    "results_per_s",
    "latency_p50_ms",
]


def rss_mb(pid: int) -> float:
    return (rss_bytes(pid) or 0) / 2**20


def slope_mb_per_hour(times_s: list[float], values: list[float]) -> float:
    """Least-squares slope; 0 with fewer than two samples."""
    if len(times_s) < 2:
        return 0.0
    mt, mv = statistics.fmean(times_s), statistics.fmean(values)
    den = sum((t - mt) ** 2 for t in times_s)
    num = sum((t - mt) * (v - mv) for t, v in zip(times_s, values, strict=True))
    return num / den * 3600 if den else 0.0


# Below this, a slope is noise: fewer samples after the warm-up, or a shorter span.
MIN_SAMPLES, MIN_SPAN_S = 3, 60.0


@dataclass
class SoakReport:
    samples: list[dict[str, float]]
    warmup_s: float
    slopes: dict[str, float] | None  # None: too short to state one (``why``)
    growth_after_warmup_mb: dict[str, float] | None
    why: str | None = None

    def as_dict(self) -> dict[str, Any]:
        def rounded(values: dict[str, float] | None) -> dict[str, float] | None:
            return None if values is None else {k: round(v, 2) for k, v in values.items()}

        return {
            "samples": len(self.samples),
            "warmup_s": self.warmup_s,
            "slope_mb_per_hour": rounded(self.slopes),
            "growth_after_warmup_mb": rounded(self.growth_after_warmup_mb),
            "no_slope_because": self.why,
        }


def run_soak(
    settings: Settings,
    *,
    images: Path,
    hours: float,
    interval: float,
    warmup: float,
    cameras: int,
    fps: float,
    workers: int,
    out_csv: Path,
) -> SoakReport:
    photos = load_photos(images)
    seconds = hours * 3600
    samples: list[dict[str, float]] = []
    with local_fleet(settings, workers=workers, prefix="soak") as fleet:
        producer = fleet.producer
        names = [f"soak{i:02d}" for i in range(cameras)]
        feeder = threading.Thread(
            target=replay,
            args=(producer, photos),
            kwargs={"cameras": cameras, "fps": fps, "seconds": seconds, "prefix": "soak"},
            daemon=True,
        )
        start = time.monotonic()
        feeder.start()
        reader = ResultsReader(producer.client)
        reader.follow(names)
        with out_csv.open("w", newline="") as f:
            writer = csv.DictWriter(f, FIELDS)
            writer.writeheader()
            last = start
            while (now := time.monotonic()) - start < seconds:
                time.sleep(min(interval, max(0.0, start + seconds - now)))
                row, last = sample(fleet, reader, start, last)
                samples.append(row)
                writer.writerow(row)
                f.flush()
        feeder.join(timeout=30)
    return summarize(samples, warmup)


def sample(
    fleet: LocalFleet, reader: ResultsReader, start: float, last: float
) -> tuple[dict[str, float], float]:
    """One CSV row (memory of the workers and Redis, results and latency since ``last``)
    and when it was taken."""
    for i, p in enumerate(fleet.workers):
        if p.poll() is not None:
            raise RuntimeError(f"worker {i} exited with {p.returncode} mid-soak")
    fresh = [r for _cam, results in reader.read() for r in results]
    latencies = [
        (r.published_at - r.captured_at).total_seconds() * 1000
        for r in fresh
        if r.published_at and r.captured_at
    ]
    memory: Any = fleet.producer.client.info("memory")
    t = time.monotonic()
    return {
        "elapsed_s": round(t - start, 1),
        "worker_rss_mb": round(max(rss_mb(p.pid) for p in fleet.workers), 2),
        "redis_used_mb": round(int(memory["used_memory"]) / 2**20, 2),
        "redis_rss_mb": round(int(memory["used_memory_rss"]) / 2**20, 2),
        "results_per_s": round(len(fresh) / max(t - last, 1e-9), 2),
        "latency_p50_ms": round(statistics.median(latencies), 1) if latencies else 0,
    }, t


def summarize(samples: list[dict[str, float]], warmup: float) -> SoakReport:
    """The memory slopes after ``warmup`` seconds, or none: a run that ends in its warm-up
    (or just after) has no slope to state, rather than a slope of 0."""
    after = [s for s in samples if s["elapsed_s"] >= warmup]
    times = [s["elapsed_s"] for s in after]
    span = times[-1] - times[0] if times else 0.0
    if len(after) < MIN_SAMPLES or span < MIN_SPAN_S:
        why = (
            f"{len(after)} samples over {span:.0f} s after the {warmup:.0f} s warm-up; a slope "
            f"needs at least {MIN_SAMPLES} over {MIN_SPAN_S:.0f} s (a longer --hours, a "
            "shorter --interval)"
        )
        return SoakReport(samples, warmup, None, None, why)
    slopes, growth = {}, {}
    for key in ("worker_rss_mb", "redis_used_mb", "redis_rss_mb"):
        values = [s[key] for s in after]
        slopes[key] = slope_mb_per_hour(times, values)
        growth[key] = max(values) - values[0] if values else 0.0
    return SoakReport(samples, warmup, slopes, growth)
