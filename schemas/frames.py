"""What the producer stores beside each JPEG in ``is21:frames:{camera_id}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

# Camera and request ids become parts of Redis key names and log lines: a ':' or '*'
# would let one camera read or clobber another's keys, so the alphabet is closed.
CAMERA_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,128}$"
_CAMERA_ID = re.compile(CAMERA_ID_PATTERN)
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)

log = logging.getLogger(__name__)


def is_camera_id(value: object) -> bool:
    return isinstance(value, str) and _CAMERA_ID.fullmatch(value) is not None


def is_request_id(value: object) -> bool:
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def entry_order(entry_id: bytes | str) -> tuple[int, int]:
    """A stream entry id as the pair Redis orders it by: (milliseconds, sequence)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def camera_ids(members: Iterable[bytes], rejected: list[str] | None = None) -> list[str]:
    """The valid camera ids of ``is21:cameras``, sorted. A member no producer could have
    added (written by hand, not UTF-8) is logged, appended to ``rejected`` and left out,
    so that one bad entry does not take every reader of the set down with it."""
    ids = []
    for member in members:
        text = member.decode("utf-8", "replace")
        if is_camera_id(text):
            ids.append(text)
        else:
            log.warning("is21:cameras holds %r, not a camera id: left out", member[:80])
            if rejected is not None:
                rejected.append(f"is21:cameras member {member[:80]!r}")
    return sorted(ids)


def utc_instant(value: object) -> datetime | None:
    """docs/protocol.md's captured_at: an ISO 8601 string with an offset, kept as the same
    instant in UTC. A naive time or a number would be a guess at the camera's clock."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"captured_at must be an ISO 8601 string, not {type(value).__name__}")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"captured_at {value[:40]!r} is not ISO 8601") from None
    if when.tzinfo is None:
        raise ValueError(f"captured_at {value[:40]!r} has no offset (Z or +HH:MM)")
    return when.astimezone(UTC)


class FrameMeta(BaseModel):
    camera_id: str = Field(pattern=CAMERA_ID_PATTERN)
    seq: int = Field(ge=1, description="per-camera sequence number, assigned by Redis")
    frame_id: str = Field(description="the frame's stream entry id")
    captured_at: Annotated[datetime | None, BeforeValidator(utc_instant)] = None
    request_id: str | None = Field(default=None, pattern=REQUEST_ID_PATTERN)
