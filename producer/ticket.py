"""What ``submit`` hands back, and which results answer it."""

from __future__ import annotations

from dataclasses import dataclass

from is21.schemas.frames import entry_order
from is21.schemas.results import Result


@dataclass(frozen=True)
class Ticket:
    camera_id: str
    frame_id: str  # the frame's entry id: its result, or a newer frame's, has one >= it
    seq: int
    results_after: str  # read the camera's results stream after this id
    request_id: str | None
    submitted_at: float
    fallback: Result | None = None  # set when the frame was not enqueued


def fallback_result(camera_id: str, request_id: str | None, reason: str) -> Result:
    return Result(
        camera_id=camera_id,
        frame_id="",
        seq=0,
        status="fallback",
        request_id=request_id,
        error=reason,
    )


def answers(fields: dict[bytes, bytes], frame_id: str) -> bool:
    """Whether a results entry is for the frame ``frame_id`` or a newer one of its camera
    (entry ids order frames in time); an entry without a frame id is not one of ours and
    goes on to be decoded, and counted, as junk."""
    served = fields.get(b"frame_id")
    if served is None:
        return True
    try:
        return entry_order(served) >= entry_order(frame_id)
    except ValueError:
        return True
