"""How fairly the fleet serves cameras: each camera's waits between two services, against
the bound of ceil(cameras / workers) x 1.2 service times."""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise

from is21.schemas.results import Result

STALL = 1.5  # a frame whose decode + inference took 1.5x its run's median


@dataclass
class Gap:
    """A camera's wait between two of its services, from one claim to the next."""

    start: float  # the first service's claim
    end: float  # the next one's claim
    idle_from: float  # the first service's result out ...
    idle_to: float  # ... until the next frame was stored: no frame, so no wait

    @property
    def seconds(self) -> float:
        return self.end - self.start - max(0.0, self.idle_to - self.idle_from)


def gaps(results: list[Result]) -> list[Gap]:
    """Every camera's waits between two services. Time the camera had no frame (its result
    out, the driver's next frame not yet stored) is not waiting and is left out."""
    by_cam: dict[str, list[Result]] = {}
    for r in results:
        if r.claimed_at is not None and r.published_at is not None:
            by_cam.setdefault(r.camera_id, []).append(r)
    out = []
    for served in by_cam.values():
        served.sort(key=lambda r: r.seq)
        for a, b in pairwise(served):
            assert a.claimed_at and a.published_at and b.claimed_at
            end = b.claimed_at.timestamp()
            out.append(
                Gap(
                    a.claimed_at.timestamp(),
                    end,
                    a.published_at.timestamp(),
                    end - b.queue_ms / 1000,
                )
            )
    return out


def gap_bound(results: list[Result], cameras: int, workers: int) -> float:
    """The no-starvation bound in seconds: ceil(cameras / workers) x 1.2 service times,
    a service time being the median of each worker's claim-to-claim intervals (not the
    fleet's interval x workers: two workers claiming nearly together make the fleet's
    intervals alternate short and long, and their median is neither)."""
    claims: dict[str, list[float]] = {}
    for r in results:
        if r.claimed_at is not None:
            claims.setdefault(r.worker, []).append(r.claimed_at.timestamp())
    return _bound(list(claims.values()), cameras, workers)


def _bound(services: list[list[float]], cameras: int, workers: int) -> float:
    intervals = [b - a for times in services for a, b in pairwise(sorted(times))]
    if not intervals:
        return 0.0
    return math.ceil(cameras / workers) * 1.2 * statistics.median(intervals)


def max_gap_ratio(results: list[Result], cameras: int, workers: int) -> float | None:
    """Worst time between two services of a camera, over the no-starvation bound."""
    waits, bound = gaps(results), gap_bound(results, cameras, workers)
    if not waits or bound <= 0:
        return None
    return round(max(g.seconds for g in waits) / bound, 3)


def gaps_over_bound(results: list[Result], cameras: int, workers: int) -> tuple[int, int, int, int]:
    """Whether the waits too long in seconds are the machine's stalls: (waits, waits over
    the bound, how many of those spanned a stalled frame, how many of all waits did). A
    frame stalled if its decode + inference took over STALL x its run's median. With the
    order fair, a wait crosses the bound in seconds when frames it spans stall; by chance
    it would span one as often as any wait does."""
    waits, bound = gaps(results), gap_bound(results, cameras, workers)
    timed = [r for r in results if r.claimed_at is not None]
    if not waits or bound <= 0:
        return len(waits), 0, 0, 0
    slow_ms = STALL * statistics.median(r.processing_ms for r in timed)
    stalls = []
    for r in timed:
        if r.processing_ms > slow_ms:
            assert r.claimed_at is not None
            began = r.claimed_at.timestamp() + r.held_ms / 1000
            stalls.append((began, began + r.processing_ms / 1000))

    def spans_stall(g: Gap) -> bool:
        return any(s < g.end and e > g.start for s, e in stalls)

    over = [g for g in waits if g.seconds > bound]
    return len(waits), len(over), sum(map(spans_stall, over)), sum(map(spans_stall, waits))


def ideal_wait_ratios(starts: list[list[float]], cameras: int, workers: int) -> list[float]:
    """The starvation check in seconds for a scheduler that costs nothing, on the
    detector alone's own timings (``starts``: each process's image start times): the
    cameras served round robin in the order the processes started images, each wait
    over the same bound as the fleet's. What the machine's own stalls put over the
    bound; the fleet's waits are read against it."""
    merged = sorted(t for times in starts for t in times)
    bound = _bound(starts, cameras, workers)
    if len(merged) <= cameras or bound <= 0:
        return []
    return [(b - a) / bound for a, b in zip(merged, merged[cameras:], strict=False)]


def max_turns_ratio(results: list[Result], cameras: int, workers: int) -> float | None:
    """The starvation check counted in services instead of seconds: the most frames the
    fleet served between two services of one camera, over workers x the bound. A stall
    of the machine (one inference taking 3x its median) lengthens the wait in seconds
    but not in turns: this says whether the order is fair, the other whether the
    machine kept up."""
    claims = sorted(r.claimed_at.timestamp() for r in results if r.claimed_at)
    waits = gaps(results)
    if not waits:
        return None
    worst = 0
    for g in waits:
        turns = bisect_left(claims, g.end) - bisect_right(claims, g.start)
        if g.idle_to > g.idle_from:  # services while the camera had no frame: no wait
            turns -= bisect_left(claims, g.idle_to) - bisect_right(claims, g.idle_from)
        worst = max(worst, turns)
    return round(worst / workers / (math.ceil(cameras / workers) * 1.2), 3)
