"""What ``FrameProducer.submit`` refuses before touching Redis, each with its own error:
a camera server's bug shows at its call, not as an error result seconds later."""

from __future__ import annotations

from datetime import datetime

from is21.producer.errors import (
    FrameTooLarge,
    InvalidCameraId,
    InvalidCapturedAt,
    InvalidRequestId,
    NotAJpeg,
)
from is21.schemas.frames import is_camera_id, is_request_id

JPEG_MAGIC = b"\xff\xd8\xff"


def validate_frame(
    camera_id: str,
    jpeg: bytes,
    request_id: str | None,
    captured_at: datetime | None,
    max_frame_bytes: int,
) -> None:
    if not is_camera_id(camera_id):
        raise InvalidCameraId(f"camera id must match [A-Za-z0-9_.-]{{1,64}}: {camera_id!r:.80}")
    if request_id is not None and not is_request_id(request_id):
        raise InvalidRequestId(f"request id must match [A-Za-z0-9_.-]{{1,128}}: {request_id!r:.80}")
    if not isinstance(jpeg, bytes | bytearray | memoryview) or len(jpeg) == 0:
        raise NotAJpeg(f"camera {camera_id}: frame is empty or not bytes")
    if len(jpeg) > max_frame_bytes:
        raise FrameTooLarge(
            f"camera {camera_id}: frame of {len(jpeg)} bytes exceeds "
            f"IS21_MAX_FRAME_BYTES={max_frame_bytes}"
        )
    if bytes(jpeg[:3]) != JPEG_MAGIC:
        raise NotAJpeg(f"camera {camera_id}: frame does not start with a JPEG SOI marker")
    if captured_at is not None and (
        not isinstance(captured_at, datetime) or captured_at.utcoffset() is None
    ):
        # A naive time would be read back as UTC by every other client: a camera
        # server in UTC+9 would stamp its frames nine hours off without a word.
        raise InvalidCapturedAt(
            f"camera {camera_id}: captured_at must be a timezone-aware datetime "
            f"(datetime.now(UTC)), not {captured_at!r:.80}"
        )
