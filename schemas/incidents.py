"""What ``is21:incidents`` carries: one message per change of an incident, not one per
frame (docs/protocol.md section 7). Times are seconds since the epoch, in the camera's
clock where its frames carry ``captured_at``, else Redis's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from is21.schemas.results import PROTOCOL_VERSION

Box = tuple[float, float, float, float]


class IncidentTrack(BaseModel):
    """One object followed across frames."""

    track: int = Field(description="unique per camera")
    label: str
    first_seen: float
    last_seen: float
    top_score: float
    box: Box = Field(description="the last one seen: x1, y1, x2, y2 in pixels")


class BestFrame(BaseModel):
    """The frame that shows the incident best: a high score, a large box, not cut off."""

    frame_id: str
    track: int
    score: float
    box: Box


class IncidentRecord(BaseModel):
    id: str = Field(description="camera:kind:ms it opened (Redis's clock); unique")
    camera_id: str
    kind: str = Field(description="the event schema's event: human, animal")
    start: float = Field(description="the first sighting of its first moving object")
    end: float | None = Field(default=None, description="its last sighting; set in `end`")
    tracks: list[IncidentTrack] = Field(
        default_factory=list, description="at most 16: those seen last"
    )
    track_count: int = Field(default=0, description="every track it has had")
    stationary: list[int] = Field(default_factory=list, description="tracks standing still")
    best: BestFrame | None = None
    snapshot: str | None = Field(
        default=None, description="key of the best frame's JPEG (a TTL); also over HTTP"
    )


class IncidentMessage(BaseModel):
    """``new`` once, ``update`` on a change (and at most every minute otherwise), ``end``
    once: Frigate's events, with the record before (as last sent) and after."""

    type: Literal["new", "update", "end"]
    id: str
    camera_id: str
    kind: str
    before: IncidentRecord | None = None
    after: IncidentRecord
    protocol: int = PROTOCOL_VERSION
    reason: str | None = Field(
        default=None,
        description="set only on an end the reader made itself: Redis restarted without "
        "its data and forgot the incident (producer/incidents.py)",
    )
