"""Frigate's distance, for the fleet's frame rates: a detection belongs to the track whose
last box's bottom centre is nearest, measured in box sizes, and only of the same label.

At 1 fps a walking person moves more than a box width between frames, so boxes of two
frames do not overlap and IoU matching (trackers tuned for 15 fps and more) starts a new
track every frame. The bottom centre (the feet) moves less than the box's centre when a
person turns or bends. The gate grows with the time since the track was last seen, so a
frame skipped under load, or a camera at 0.2 fps, does not cut a track in two; the
assignment that minimises the total distance (scipy's ``linear_sum_assignment``) keeps
two people who cross apart.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
from scipy.optimize import linear_sum_assignment

from is21.schemas.results import Detection
from is21.workers.track import Box, Track, Tracker, TrackRules, TrackState

RECENT = 10  # scores kept per track: the median that confirms it
FAR = 1e9  # the cost of a pair that must not match
# The gate grows with the seconds since a track was last seen, up to this: a camera at
# 0.2 fps moves 5 s between frames, while a track unseen for 20 s must not take a
# newcomer from across the frame.
GATE_SECONDS = 5.0


def distance(a: Box, b: Box) -> float:
    """Bottom-centre displacement over the boxes' mean size (square root of the area)."""
    ax, ay = (a[0] + a[2]) / 2, a[3]
    bx, by = (b[0] + b[2]) / 2, b[3]
    size = (math.sqrt(area(a)) + math.sqrt(area(b))) / 2
    return math.hypot(ax - bx, ay - by) / max(size, 1.0)


def area(box: Box) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


class CentroidTracker(Tracker):
    def __init__(self, rules: TrackRules | None = None) -> None:
        self.rules = rules or TrackRules()

    def update(
        self, tracks: list[Track], detections: list[Detection], at: float, next_id: int
    ) -> tuple[list[Track], int]:
        rules = self.rules
        live = [t for t in tracks if t.state(at, rules) is not TrackState.ENDED]
        dets = [d for d in detections if d.score >= rules.min_score]
        taken: set[int] = set()
        if live and dets:
            cost = np.full((len(live), len(dets)), FAR)
            for i, track in enumerate(live):
                gate = rules.max_distance * min(max(1.0, at - track.last_seen), GATE_SECONDS)
                for j, det in enumerate(dets):
                    if det.label == track.label and (d := distance(track.box, det.box)) <= gate:
                        cost[i, j] = d
            rows, cols = linear_sum_assignment(cost)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                if cost[row, col] < FAR:
                    self.extend(live[row], dets[col], at)
                    taken.add(col)
        for j, det in enumerate(dets):
            if j not in taken:
                live.append(self.start(next_id, det, at))
                next_id += 1
        return live, next_id

    def start(self, track_id: int, det: Detection, at: float) -> Track:
        track = Track(track_id, det.label, det.box, det.box, at, at, at)
        self.score(track, det.score)
        return track

    def extend(self, track: Track, det: Detection, at: float) -> None:
        track.box, track.last_seen = det.box, at
        if distance(track.anchor, det.box) > self.rules.moved:
            track.anchor, track.last_moved, track.ever_moved = det.box, at, True
        self.score(track, det.score)

    def score(self, track: Track, score: float) -> None:
        track.scores = [*track.scores, score][-RECENT:]
        track.top_score = max(track.top_score, score)
        rules = self.rules
        if len(track.scores) >= rules.confirm_hits:
            track.confirmed |= statistics.median(track.scores) >= rules.confirm_score
