"""The event schema: which detections count as which camera event.

The camera server thinks in events (``human``, ``animal``), not COCO classes; the
schema is versioned so that every result says which rules produced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from is21.schemas import codec
from is21.schemas.frames import is_camera_id
from is21.schemas.results import NO_EVENT, Detection


class EventRule(BaseModel):
    labels: list[str] = Field(min_length=1)
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)


class Tracking(BaseModel):
    """How detections become tracks and tracks incidents (workers/track, workers/incidents).

    Frigate's defaults where they apply (a track believed on a median score of 0.7 over
    its last 10 detections, single detections under 0.5 ignored); times in seconds of
    Redis's clock, never in frames, because cameras run at 0.2 to 5 fps and frames are
    skipped under load. ``end_after`` is one timer for both ends: a track unseen for it
    ends, and an incident with no moving object of its kind for it ends; 30 s is
    Frigate's review cutoff since its PR #19850 (with 120 s, passing cars kept alerts
    alive)."""

    model_config = ConfigDict(extra="forbid")

    incidents: bool = Field(
        default=True, description="false: results and events only, nothing tracked"
    )
    min_score: float = Field(default=0.5, ge=0.0, le=1.0, description="tracked at all")
    confirm_score: float = Field(default=0.7, ge=0.0, le=1.0, description="median to confirm")
    confirm_hits: int = Field(default=2, ge=1, le=10, description="detections to confirm")
    max_distance: float = Field(default=2.5, gt=0, description="match gate, box sizes per s")
    moved: float = Field(default=0.5, ge=0, description="box sizes from its anchor: it moved")
    stationary_after: float = Field(default=10.0, gt=0, description="s still: stationary")
    end_after: float = Field(
        default=30.0, gt=0, description="s unseen: the track ends; s with none moving: the incident"
    )
    update_every: float = Field(default=60.0, gt=0, description="s between quiet updates")

    @model_validator(mode="after")
    def _moved_within_gate(self) -> Tracking:
        if self.moved > self.max_distance:
            raise ValueError("tracking.moved must not exceed tracking.max_distance")
        return self


Point = tuple[float, float]


class Gating(BaseModel):
    """When a worker may skip the detectors on a frame that shows what the last frame
    they ran on showed (workers/gate). The skipped frame's result repeats that frame's
    detections, so the camera server sees the events it would have seen; the detectors
    still run at least every ``max_skip`` seconds (a person standing still is seen
    again), on any change outside the masks, and while an incident is open or a
    confirmed track moves."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="false: the detectors run on every frame")
    sensitivity: float = Field(
        default=0.5, gt=0.0, le=1.0, description="higher: smaller changes run the detectors"
    )
    max_skip: float = Field(
        default=10.0, gt=0.0, le=300.0, description="s: the detectors run at least this often"
    )
    masks: list[list[Point]] = Field(
        default_factory=list,
        description="polygons whose changes are ignored (a tree, a clock overlay): "
        "points x, y as fractions 0..1 of the frame's width and height",
    )

    @model_validator(mode="after")
    def _masks_are_polygons(self) -> Gating:
        for mask in self.masks:
            if len(mask) < 3 or any(not (0 <= v <= 1) for point in mask for v in point):
                raise ValueError("a mask is 3 or more points x, y, each within 0..1")
        return self


class CameraOverride(BaseModel):
    """One camera's own rules: a camera facing a pasture may report no animals; one facing
    a busy street may need a shorter ``end_after``."""

    events: list[str] | None = Field(default=None, description="events it reports; None = all")
    min_scores: dict[str, float] = Field(default_factory=dict)
    tracking: dict[str, float | bool] = Field(
        default_factory=dict, description="fields of the schema's tracking, for this camera"
    )
    gate: dict[str, Any] = Field(
        default_factory=dict, description="fields of the schema's gate, for this camera"
    )


class EventSchema(BaseModel):
    version: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}\.\d+$")
    events: dict[str, EventRule]
    priority: list[str] = Field(description="first qualifying event becomes primary_event")
    cameras: dict[str, CameraOverride] = Field(default_factory=dict)
    tracking: Tracking = Field(default_factory=Tracking)
    gate: Gating = Field(default_factory=Gating)

    @model_validator(mode="after")
    def _names_are_consistent(self) -> EventSchema:
        if NO_EVENT in self.events:
            raise ValueError(f"{NO_EVENT!r} is what no qualifying detection means; not an event")
        bad = [name for name in self.events if not is_camera_id(name)]
        if bad:  # an event names incidents, their keys and URLs (is21:snapshot:{id})
            raise ValueError(f"event names are 1-64 of A-Z a-z 0-9 _ . -, not {bad[0]!r:.80}")
        if sorted(self.priority) != sorted(self.events):
            raise ValueError("priority must list every event exactly once")
        for cam, override in self.cameras.items():
            if not is_camera_id(cam):
                raise ValueError(f"camera override for an invalid camera id {cam!r:.80}")
            named = [*(override.events or []), *override.min_scores]
            unknown = sorted(set(named) - set(self.events))
            if unknown:
                raise ValueError(f"camera {cam}: unknown events {unknown}")
            if any(not 0.0 <= v <= 1.0 for v in override.min_scores.values()):
                raise ValueError(f"camera {cam}: min_scores must be within 0..1")
            try:
                Tracking.model_validate({**self.tracking.model_dump(), **override.tracking})
            except ValidationError as exc:
                raise ValueError(f"camera {cam}: tracking: {codec.explain(exc)}") from exc
            try:
                Gating.model_validate({**self.gate.model_dump(), **override.gate})
            except ValidationError as exc:
                raise ValueError(f"camera {cam}: gate: {codec.explain(exc)}") from exc
        return self

    def tracking_for(self, camera_id: str) -> Tracking:
        """The schema's tracking with the camera's own fields over it."""
        override = self.cameras.get(camera_id)
        if override is None or not override.tracking:
            return self.tracking
        return Tracking.model_validate({**self.tracking.model_dump(), **override.tracking})

    def gate_for(self, camera_id: str) -> Gating:
        """The schema's gate with the camera's own fields over it."""
        override = self.cameras.get(camera_id)
        if override is None or not override.gate:
            return self.gate
        return Gating.model_validate({**self.gate.model_dump(), **override.gate})

    def kinds(self, camera_id: str) -> dict[str, tuple[str, float]]:
        """Which labels raise which event on this camera, and the score they need: what
        the tracker follows (a label of two events belongs to the one of higher priority)."""
        override = self.cameras.get(camera_id)
        kinds: dict[str, tuple[str, float]] = {}
        for name in self.priority:
            if override and override.events is not None and name not in override.events:
                continue
            rule = self.events[name]
            floor = override.min_scores.get(name, rule.min_score) if override else rule.min_score
            for label in rule.labels:
                kinds.setdefault(label, (name, floor))
        return kinds

    def evaluate(
        self, detections: Iterable[Detection], camera_id: str | None = None
    ) -> tuple[str, list[str]]:
        """Return (primary_event, events) for one frame's detections on that camera."""
        override = self.cameras.get(camera_id) if camera_id is not None else None
        best: dict[str, float] = {}
        for det in detections:
            if det.score > best.get(det.label, -1.0):
                best[det.label] = det.score
        fired = []
        for name in self.priority:
            if override and override.events is not None and name not in override.events:
                continue
            rule = self.events[name]
            floor = override.min_scores.get(name, rule.min_score) if override else rule.min_score
            if any(best.get(label, -1.0) >= floor for label in rule.labels):
                fired.append(name)
        return (fired[0] if fired else NO_EVENT), fired


ANIMAL_LABELS = [
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
]

DEFAULT_SCHEMA = EventSchema(
    version="2026-11-23.1",
    events={
        "human": EventRule(labels=["person"], min_score=0.5),
        "animal": EventRule(labels=ANIMAL_LABELS, min_score=0.5),
    },
    priority=["human", "animal"],
)
