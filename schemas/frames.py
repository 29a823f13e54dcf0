"""What the producer stores beside each JPEG in ``is21:frames:{camera_id}``."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field

# Camera and request ids become parts of Redis key names and log lines: a ':' or '*'
# would let one camera read or clobber another's keys, so the alphabet is closed.
CAMERA_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
_CAMERA_ID = re.compile(CAMERA_ID_PATTERN)
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


def is_camera_id(value: object) -> bool:
    return isinstance(value, str) and _CAMERA_ID.fullmatch(value) is not None


def is_request_id(value: object) -> bool:
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


class FrameMeta(BaseModel):
    camera_id: str = Field(pattern=CAMERA_ID_PATTERN)
    seq: int = Field(ge=1, description="per-camera sequence number, assigned by Redis")
    frame_id: str = Field(description="the frame's stream entry id")
    captured_at: datetime
    request_id: str | None = Field(default=None, pattern=REQUEST_ID_PATTERN)
