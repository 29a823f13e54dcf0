"""The event schema: which detections count as which camera event.

The camera server thinks in events (``human``, ``animal``), not COCO classes; the
schema is versioned so that every result says which rules produced it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field, model_validator

from schemas.results import NO_EVENT, Detection


class EventRule(BaseModel):
    labels: list[str] = Field(min_length=1)
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)


class EventSchema(BaseModel):
    version: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}\.\d+$")
    events: dict[str, EventRule]
    priority: list[str] = Field(description="first qualifying event becomes primary_event")

    @model_validator(mode="after")
    def _priority_names_events(self) -> EventSchema:
        if NO_EVENT in self.events:
            raise ValueError(f"{NO_EVENT!r} is what no qualifying detection means; not an event")
        if sorted(self.priority) != sorted(self.events):
            raise ValueError("priority must list every event exactly once")
        return self

    def evaluate(self, detections: Iterable[Detection]) -> tuple[str, list[str]]:
        """Return (primary_event, events) for one frame's detections."""
        best: dict[str, float] = {}
        for det in detections:
            if det.score > best.get(det.label, -1.0):
                best[det.label] = det.score
        fired = [
            name
            for name in self.priority
            if any(
                best.get(label, -1.0) >= self.events[name].min_score
                for label in self.events[name].labels
            )
        ]
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
