"""Recent per-frame timings of one worker, for its heartbeat and the benchmark."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime


def rss_bytes(pid: int | None = None) -> int | None:
    """Resident memory of a process (this one by default; Linux), for the heartbeat and
    the soak."""
    try:
        with open(f"/proc/{pid or 'self'}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (nearest rank), None for no values: the one the heartbeat, the
    bench and the soak report."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Recent:
    """The last N samples; percentiles over a window, so a slow hour does not linger."""

    def __init__(self, size: int = 512) -> None:
        self.samples: deque[float] = deque(maxlen=size)

    def add(self, value: float) -> None:
        self.samples.append(value)

    def percentile(self, q: float) -> float | None:
        value = percentile(self.samples, q)
        return None if value is None else round(value, 3)


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    redis_errors: int = 0  # calls Redis refused (full, or a fleet key of the wrong type)
    results_stale: int = 0  # results publish.lua dropped: this worker's claim had lapsed
    results_refused: int = 0  # results Redis would not store (the frame counted failed)
    last_inference_at: str | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    processing_ms: Recent = field(default_factory=Recent)  # decode + inference + outputs
    dispatch_ms: Recent = field(default_factory=Recent)
    # CPU ms, since the worker started, of what follows a frame's inference when its
    # result is published: the camera's tracks, incidents and change-gate reference.
    tracking_cpu_ms: float = 0.0
    # Monotonic times the last frames finished: the heartbeat's fps, measured here
    # because a reader sampling two heartbeats 2 s apart reads 0 or double.
    finished: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    born: float = field(default_factory=time.monotonic)

    def fps(self, window_s: float = 10.0) -> float:
        now = time.monotonic()
        done = sum(1 for t in self.finished if now - t <= window_s)
        return round(done / max(min(window_s, now - self.born), 1e-3), 2)

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Counts the CPU of what follows a frame's inference (``tracking_cpu_ms``), in
        the thread that does it, among the inference threads: there, not alone, is what
        tracks, incidents and the gate cost a frame."""
        started = time.thread_time()
        try:
            yield
        finally:
            self.tracking_cpu_ms += (time.thread_time() - started) * 1000

    def record(self, ok: bool, processing_ms: float, dispatch_ms: float) -> None:
        if ok:
            self.processed += 1
        else:
            self.failed += 1
        self.last_inference_at = datetime.now(UTC).isoformat()
        self.finished.append(time.monotonic())
        self.processing_ms.add(processing_ms)
        self.dispatch_ms.add(dispatch_ms)

    def as_dict(self) -> dict[str, object]:
        return {
            "started_at": self.started_at,
            "last_inference_at": self.last_inference_at,
            "frames_processed": self.processed,
            "frames_failed": self.failed,
            "redis_errors": self.redis_errors,
            "fps": self.fps(),
            "results_stale": self.results_stale,
            "results_refused": self.results_refused,
            "processing_ms_p50": self.processing_ms.percentile(50),
            "processing_ms_p99": self.processing_ms.percentile(99),
            # The same under the names they had, for one release (CHANGELOG: Deprecated).
            "inference_ms_p50": self.processing_ms.percentile(50),
            "inference_ms_p99": self.processing_ms.percentile(99),
            "dispatch_ms_p50": self.dispatch_ms.percentile(50),
            "dispatch_ms_p99": self.dispatch_ms.percentile(99),
            "tracking_cpu_ms": round(self.tracking_cpu_ms, 1),
            "rss_bytes": rss_bytes(),
        }
