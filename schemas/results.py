"""What a worker publishes for each processed frame."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NO_EVENT = "no_event"

# The wire protocol's version (docs/protocol.md), in is21:protocol and in every result. It
# changes only for what an existing client would misread; added fields do not change it.
PROTOCOL_VERSION = 1

# fallback: the producer answered no_event itself because no worker (or no Redis) was
# there to run the frame; the camera loop must never wait on a fleet that is down.
Status = Literal["ok", "error", "fallback"]


class Detection(BaseModel):
    label: str
    score: float = Field(ge=0.0, le=1.0)
    box: tuple[float, float, float, float] = Field(
        description="x1, y1, x2, y2 in pixels of the original image"
    )
    model: str = ""


class Result(BaseModel):
    # model_sha256 is a field of the wire format; pydantic before 2.10 warns about any
    # field starting with model_ unless told it is meant.
    model_config = ConfigDict(protected_namespaces=())

    camera_id: str
    frame_id: str
    seq: int
    status: Status
    primary_event: str = NO_EVENT
    events: list[str] = Field(default_factory=list)
    detections: list[Detection] = Field(default_factory=list)
    processing_ms: float = 0.0
    queue_ms: float = Field(default=0.0, description="submit to claim, Redis clock")
    held_ms: float = Field(
        default=0.0,
        description="claim to detection start: a frame claimed ahead waits for the one before",
    )
    skipped: int = Field(default=0, description="older frames of the camera superseded by this one")
    gated: bool = Field(
        default=False, description="the detectors did not run: the scene had not changed"
    )
    gated_from: str | None = Field(
        default=None, description="a gated result's detections are this frame's (its id)"
    )
    width: int | None = Field(default=None, description="the frame's size, in pixels: boxes")
    height: int | None = None
    model: str = ""
    model_sha256: str = ""
    schema_version: str = ""
    worker: str = ""
    request_id: str | None = None
    captured_at: datetime | None = None
    claimed_at: datetime | None = None
    published_at: datetime | None = None
    error: str | None = None
    protocol: int = PROTOCOL_VERSION

    @property
    def is_event(self) -> bool:
        return self.status == "ok" and self.primary_event != NO_EVENT
