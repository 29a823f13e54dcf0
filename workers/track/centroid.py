"""Frigate's distance, for the fleet's frame rates: a detection belongs to the track whose
bottom centre, moved on at its own pace, is nearest, measured in box sizes, and only of
the same label.

At 1 fps a walking person moves more than a box width between frames, so boxes of two
frames do not overlap and IoU matching (trackers tuned for 15 fps and more) starts a new
track every frame. The bottom centre (the feet) moves less than the box's centre when a
person turns or bends, and a walker keeps their pace: each track predicts where its feet
are now from its last velocity, so two people who cross keep their tracks. The gate grows
with the time since the track was last seen, so a frame skipped under load, or a camera at
0.2 fps, does not cut a track in two.

Matching is a cascade, as DeepSORT's: the tracks seen in the camera's last frame take
their detections first, and only what is left goes to tracks unseen for longer. A plaza
leaves many of those (a person who walked out 20 s ago), and without the cascade the
nearest of them would take a walker's detection from the walker's own track. Within a
level, the assignment that minimises the total distance (scipy's
``linear_sum_assignment``) decides.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
from scipy.optimize import linear_sum_assignment

from is21.schemas.results import Detection
from is21.workers.track import Box, Track, Tracker, TrackRules

RECENT = 10  # scores kept per track: the median that confirms it
FAR = 1e9  # the cost of a pair that must not match
# The gate (and a track's prediction) grows with the seconds since it was last seen, up to
# this: a camera at 0.2 fps moves 5 s between frames, while a track unseen for 20 s must
# not take a newcomer from across the frame.
GATE_SECONDS = 5.0
# At most this many tracks per camera (the crowd of a plaza is ~10, with those who just
# left): the record read and written with every frame, and the matching, stay bounded.
MAX_TRACKS = 48
SMOOTHING = 1.0  # weight of the newest step in a track's velocity: its last step
FASTEST = 2.0  # a track's pace at most this many gates a second (max_distance box sizes)


def foot(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, box[3]


def size(box: Box) -> float:
    """The square root of the box's area, at least a pixel."""
    return max(math.sqrt(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)), 1.0)


def distance(a: Box, b: Box) -> float:
    """Bottom-centre displacement over the boxes' mean size."""
    (ax, ay), (bx, by) = foot(a), foot(b)
    return math.hypot(ax - bx, ay - by) / ((size(a) + size(b)) / 2)


def predicted(track: Track, at: float) -> tuple[float, float, float]:
    """Where the track's feet should be now, at its last pace, and its size."""
    dt = min(max(at - track.last_seen, 0.0), GATE_SECONDS)
    tx, ty = foot(track.box)
    return tx + track.velocity[0] * dt, ty + track.velocity[1] * dt, size(track.box)


class CentroidTracker(Tracker):
    def __init__(self, rules: TrackRules | None = None) -> None:
        self.rules = rules or TrackRules()

    def update(
        self, tracks: list[Track], detections: list[Detection], at: float, next_id: int
    ) -> tuple[list[Track], int]:
        rules = self.rules
        live = [t for t in tracks if not t.ended(at, rules)]
        if len(live) > MAX_TRACKS:  # a crowd, or flickering clutter: the longest unseen go
            live = sorted(live, key=lambda t: -t.last_seen)[:MAX_TRACKS]
        free = [d for d in detections if d.score >= rules.min_score]
        latest = max((t.last_seen for t in live), default=None)
        for level in (
            [t for t in live if t.last_seen == latest],
            [t for t in live if t.last_seen != latest],
        ):
            free = self.match(level, free, at)
        # A candidate the camera's next frame does not extend was clutter, or a glimpse:
        # gone, as SORT's tentative tracks go (a person missed once is found again in two
        # frames). Kept until end_after, the flicker of a busy scene was most of the tracks
        # a camera carried, read, matched and written back with every frame.
        live = [t for t in live if t.confirmed or t.last_seen == at]
        for det in free:
            live.append(self.start(next_id, det, at))
            next_id += 1
        return live, next_id

    def match(self, tracks: list[Track], dets: list[Detection], at: float) -> list[Detection]:
        """Extend ``tracks`` with the detections they match best; the detections left.

        One assignment per label (labels never match each other, so the problem splits
        into blocks), over only the tracks and detections that have a pair within the
        gate: the same answer as one matrix of everything, at a fraction of the work for
        a camera that keeps dozens of tracks (this runs for every frame of every camera).
        """
        rows: dict[str, list[Track]] = {}
        for track in tracks:
            rows.setdefault(track.label, []).append(track)
        columns: dict[str, list[int]] = {}
        for j, det in enumerate(dets):
            if det.label in rows:
                columns.setdefault(det.label, []).append(j)
        taken: set[int] = set()
        for label, cols in columns.items():
            for track, col in assign(self.pairs(rows[label], dets, cols, at)):
                self.extend(track, dets[col], at)
                taken.add(col)
        return [d for j, d in enumerate(dets) if j not in taken]

    def pairs(
        self, tracks: list[Track], dets: list[Detection], cols: list[int], at: float
    ) -> list[tuple[Track, int, float]]:
        """Every (track, detection, distance) within the track's gate."""
        placed = [(j, *foot(dets[j].box), size(dets[j].box)) for j in cols]
        out = []
        for track in tracks:
            gate = self.rules.max_distance * min(max(1.0, at - track.last_seen), GATE_SECONDS)
            px, py, ts = predicted(track, at)
            for j, bx, by, bs in placed:
                d = math.hypot(px - bx, py - by) / ((ts + bs) / 2)
                if d <= gate:
                    out.append((track, j, d))
        return out

    def start(self, track_id: int, det: Detection, at: float) -> Track:
        track = Track(track_id, det.label, det.box, det.box, at, at, at)
        self.score(track, det.score)
        return track

    def extend(self, track: Track, det: Detection, at: float) -> None:
        dt = at - track.last_seen
        if dt > 0:
            (ox, oy), (nx, ny) = foot(track.box), foot(det.box)
            step = ((nx - ox) / dt, (ny - oy) / dt)
            # Held to FASTEST: a faster step is a box that jumped (two people merging, a
            # bad detection), and a track that kept it would be predicted across the frame
            # and, unseen, take whatever is detected there, a signpost's flicker (at 20 fps
            # one jump of 100 px reads as 2000 px/s).
            most = FASTEST * self.rules.max_distance * size(det.box)
            pace = math.hypot(*step)
            if pace > most:
                step = (step[0] * most / pace, step[1] * most / pace)
            w = SMOOTHING if track.velocity != (0.0, 0.0) else 1.0
            track.velocity = (
                w * step[0] + (1 - w) * track.velocity[0],
                w * step[1] + (1 - w) * track.velocity[1],
            )
        track.box, track.last_seen = det.box, at
        if distance(track.anchor, det.box) > self.rules.moved:
            track.anchor, track.last_moved, track.ever_moved = det.box, at, True
        self.score(track, det.score)

    def score(self, track: Track, score: float) -> None:
        """Once confirmed a track stays so: it keeps only its last score (the best frame's
        measure), which keeps a camera's record small."""
        track.top_score = max(track.top_score, score)
        if track.confirmed:
            track.scores = (score,)
            return
        track.scores = (*track.scores, score)[-RECENT:]
        rules = self.rules
        if len(track.scores) >= rules.confirm_hits:
            track.confirmed = statistics.median(track.scores) >= rules.confirm_score


def assign(pairs: list[tuple[Track, int, float]]) -> list[tuple[Track, int]]:
    """The most pairs at the least total distance, each track and detection in one at
    most (scipy's ``linear_sum_assignment``). Pairs that share neither their track nor
    their detection with another are that answer already: people apart from each other,
    most frames of most cameras, need no solver."""
    if len(pairs) <= 1:
        return [(track, col) for track, col, _ in pairs]
    rows = list({id(t): t for t, _, _ in pairs}.values())
    cols = sorted({col for _, col, _ in pairs})
    if len(rows) == len(cols) == len(pairs):
        return [(track, col) for track, col, _ in pairs]
    row_of = {id(t): i for i, t in enumerate(rows)}
    col_of = {c: i for i, c in enumerate(cols)}
    cost = np.full((len(rows), len(cols)), FAR)
    for track, col, d in pairs:
        cost[row_of[id(track)], col_of[col]] = d
    chosen = linear_sum_assignment(cost)
    return [
        (rows[r], cols[c])
        for r, c in zip(chosen[0].tolist(), chosen[1].tolist(), strict=True)
        if cost[r, c] < FAR
    ]
