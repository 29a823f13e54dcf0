"""A camera's newest frame and the result that is its own, read from Redis for a picture
(``is21 snapshot``, ``/v1/cameras/{id}/latest.jpg``). Frames are kept for minutes
(``IS21_FRAME_MAXLEN``), results longer: the frame decides what is shown, and only a
result for that very frame is drawn on it.

A frame has no result of its own while it waits or is in a worker's hand, and never
when a newer frame of its camera superseded it (the newer result answers it, docs/
protocol.md section 3); the picture then says so instead of borrowing boxes.
"""

from __future__ import annotations

from typing import Any

import redis

from is21.ops.annotate import Picture
from is21.schemas import codec, keys
from is21.schemas.frames import entry_order, is_camera_id
from is21.schemas.results import Result

RECENT = 64  # results searched for the frame's own: more than a camera makes in a frame's wait


class NoFrame(LookupError):
    """The camera has no frame kept (unknown, silent for minutes, or a bad id)."""


def latest_picture(client: redis.Redis, camera: str, frame_id: str | None = None) -> Picture:
    """The camera's newest frame (or ``frame_id``, while it is kept) with its result."""
    if not is_camera_id(camera):
        raise NoFrame(f"not a camera id: {camera[:80]!r}")
    stream = keys.frames(camera)
    entries: Any = (
        client.xrevrange(stream, count=1)
        if frame_id is None
        else client.xrange(stream, frame_id, frame_id)
    )
    if not entries or not entries[0][1].get(b"jpeg"):
        kept = "no frame" if frame_id is None else f"no frame {frame_id}"
        raise NoFrame(f"camera {camera} has {kept} kept (frames are kept for minutes)")
    entry_id, fields = entries[0]
    frame = entry_id.decode()
    answers: Any = client.xrevrange(keys.results(camera), count=RECENT)
    newer = []
    for rid, entry in answers:
        said = entry.get(b"frame_id", b"").decode()
        if said == frame:
            result = codec.decode(entry[b"data"], Result)
            return Picture(fields[b"jpeg"], camera, frame, result, result_id=rid.decode())
        if said and entry_order(said) > entry_order(frame):
            newer.append(said)
    why = (
        f"no result of its own: superseded, frame {min(newer, key=entry_order)}'s answers it"
        if newer
        else "no result yet for this frame"
    )
    return Picture(fields[b"jpeg"], camera, frame, None, why)
