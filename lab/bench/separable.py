"""How far the feet's motion alone can tell the hand-labelled pedestrians apart at a frame
rate: with each one's true past (the labels, not a tracker's guess), where their feet
should be now at their last pace, how far they are from it, and how often another
pedestrian is nearer to it. What no tracker that matches on position alone can beat, and
so whether a frame rate needs another cue (what people look like)."""

from __future__ import annotations

import math
import statistics
from typing import Any

from is21.lab.bench.vtest_labels import LABELS, NOT_PEOPLE
from is21.schemas.results import Detection
from is21.workers.track.centroid import size

Feet = dict[str, tuple[float, float, float]]  # name -> foot x, y and box size


def feet(index: int, detections: list[Detection]) -> Feet:
    """The labelled pedestrians of a frame, with the size of the box at their feet."""
    out: Feet = {}
    for who, x, y in LABELS[index]:
        boxes = [
            d.box
            for d in detections
            if abs((d.box[0] + d.box[2]) / 2 - x) + abs(d.box[3] - y) <= 12
        ]
        if who not in NOT_PEOPLE and boxes:
            out[who] = (x, y, size(boxes[0]))
    return out


def motion_margin(by_frame: dict[int, list[Detection]], step: int, frames: range) -> dict[str, Any]:
    """Over every labelled frame ``step`` clip frames after two others: each pedestrian's
    miss (feet from where their pace said, in box sizes) and whether another one stood
    nearer to that point."""
    indices = [i for i in sorted(LABELS) if i in frames and i % step == 0]
    seen = {i: feet(i, by_frame[i]) for i in indices}
    misses, others, nearer = [], [], 0
    for before, last, now in zip(indices, indices[1:], indices[2:], strict=False):
        if now - last != step or last - before != step:
            continue
        for who, (x, y, s) in seen[now].items():
            if who not in seen[last] or who not in seen[before]:
                continue
            (lx, ly, _), (bx, by, _) = seen[last][who], seen[before][who]
            px, py = 2 * lx - bx, 2 * ly - by
            miss = math.hypot(x - px, y - py) / s
            other = min(
                (
                    math.hypot(ox - px, oy - py) / s
                    for w, (ox, oy, _) in seen[now].items()
                    if w != who
                ),
                default=math.inf,
            )
            misses.append(miss)
            others.append(other)
            nearer += other < miss
    finite = [o for o in others if o < math.inf]  # a frame with nobody else: no other
    return {
        "steps": len(misses),
        "miss_median": round(statistics.median(misses), 2) if misses else None,
        "miss_p90": round(statistics.quantiles(misses, n=10)[-1], 2) if len(misses) > 1 else None,
        "nearest_other_median": round(statistics.median(finite), 2) if finite else None,
        "another_nearer": nearer,
    }
