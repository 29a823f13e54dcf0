"""The event schema: which detections count as which camera event.

The camera server thinks in events (``human``, ``animal``), not COCO classes; the
schema is versioned so that every result says which rules produced it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field, model_validator

from is21.schemas.frames import is_camera_id
from is21.schemas.results import NO_EVENT, Detection


class EventRule(BaseModel):
    labels: list[str] = Field(min_length=1)
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)


class CameraOverride(BaseModel):
    """One camera's own rules: a camera facing a pasture may report no animals."""

    events: list[str] | None = Field(default=None, description="events it reports; None = all")
    min_scores: dict[str, float] = Field(default_factory=dict)


class EventSchema(BaseModel):
    version: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}\.\d+$")
    events: dict[str, EventRule]
    priority: list[str] = Field(description="first qualifying event becomes primary_event")
    cameras: dict[str, CameraOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_are_consistent(self) -> EventSchema:
        if NO_EVENT in self.events:
            raise ValueError(f"{NO_EVENT!r} is what no qualifying detection means; not an event")
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
        return self

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
