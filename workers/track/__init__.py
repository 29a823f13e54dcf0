"""Tracks across frames: which detection of this frame is which object of the last ones.

A stage behind a small ABC, as Frigate keeps its trackers (``frigate/track/``): the
incident lifecycle (``workers/incidents/``) reads tracks, never detections, and a better
tracker replaces ``centroid.py`` without touching it.

Time is in seconds of the frames' own clock, never in frames: a camera is served at 0.2
to 5 fps, and under load frames are skipped. A track is a plain record, so that it can
be kept in Redis with its camera (``workers/incidents/state.py``, ``is21:tracks:{cam}``)
and move with the camera from worker to worker.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields

from is21.schemas.events import Tracking
from is21.schemas.results import Detection

Box = tuple[float, float, float, float]


# An unconfirmed track must be extended by the camera's next frame (the tracker drops it
# otherwise), and that frame must come within these seconds: more than a camera at 0.2 fps
# takes between frames, far less than end_after.
PENDING_FOR = 6.0


class TrackState(enum.Enum):
    PENDING = "pending"  # seen, not yet enough hits or score to be believed
    ACTIVE = "active"  # confirmed, and it has moved since it was first seen
    STATIONARY = "stationary"  # confirmed, seen without moving for ``stationary_after``
    ENDED = "ended"  # no detection for ``end_after`` seconds


@dataclass(frozen=True)
class TrackRules:
    """When a track is believed, still, and over. Frigate's defaults where they apply:
    confirmed on a median of the last 10 scores of 0.7, single detections under 0.5
    ignored; the rest in seconds, for the fleet's frame rates."""

    min_score: float = 0.5  # a detection below this is not tracked at all
    confirm_score: float = 0.7  # median of the recent scores a track needs to be believed
    confirm_hits: int = 2  # and as many detections
    max_distance: float = 2.5  # bottom-centre displacement / box size, to match a track
    moved: float = 0.5  # ... and past this, the object moved
    stationary_after: float = 10.0  # seconds without moving: stationary
    end_after: float = 30.0  # seconds without a detection: ended (and the incident, unmoved)

    @classmethod
    def of(cls, tracking: Tracking) -> TrackRules:
        """The event schema's tracking (one camera's, with its overrides)."""
        return cls(**tracking.model_dump(include={f.name for f in fields(cls)}))

    def __post_init__(self) -> None:
        if not (self.max_distance > 0 and 0 <= self.moved <= self.max_distance):
            raise ValueError("max_distance must be > 0 and moved within 0..max_distance")
        if self.end_after <= 0 or self.stationary_after <= 0 or self.confirm_hits < 1:
            raise ValueError("end_after and stationary_after > 0 s, confirm_hits >= 1")


@dataclass
class Track:
    id: int  # unique per camera
    label: str
    box: Box  # the last one seen
    anchor: Box  # where it was when it last moved (or was first seen)
    first_seen: float
    last_seen: float
    last_moved: float  # when it last moved past ``TrackRules.moved``; first_seen if never
    velocity: tuple[float, float] = (0.0, 0.0)  # of the bottom centre, pixels a second
    scores: tuple[float, ...] = ()  # the last 10
    top_score: float = 0.0
    confirmed: bool = False
    ever_moved: bool = False  # a track that never moved raises no incident (a parked car)

    def ended(self, now: float, rules: TrackRules) -> bool:
        unseen = now - self.last_seen
        # One never believed is forgotten sooner: clutter.
        return unseen > rules.end_after or (not self.confirmed and unseen > PENDING_FOR)

    def state(self, now: float, rules: TrackRules) -> TrackState:
        if self.ended(now, rules):
            return TrackState.ENDED
        if not self.confirmed:
            return TrackState.PENDING
        # Still while it was last seen: a track out of sight keeps what it was doing.
        if self.last_seen - self.last_moved >= rules.stationary_after:
            return TrackState.STATIONARY
        return TrackState.ACTIVE


class Tracker(ABC):
    @abstractmethod
    def update(
        self, tracks: list[Track], detections: list[Detection], at: float, next_id: int
    ) -> tuple[list[Track], int]:
        """The tracks after a frame taken at ``at`` (seconds) with these detections: each
        detection extends a track or starts one (ids from ``next_id``); ended tracks, and
        unconfirmed ones this frame did not extend, are dropped. Returns the tracks and
        the next free id."""
