"""The contract of the fleet: what crosses Redis, under which key names, and the settings."""

from is21.schemas.codec import CodecError, decode, encode
from is21.schemas.events import DEFAULT_SCHEMA, EventRule, EventSchema
from is21.schemas.frames import FrameMeta, is_camera_id, is_request_id
from is21.schemas.results import NO_EVENT, Detection, Result
from is21.schemas.settings import Settings

__all__ = [
    "DEFAULT_SCHEMA",
    "NO_EVENT",
    "CodecError",
    "Detection",
    "EventRule",
    "EventSchema",
    "FrameMeta",
    "Result",
    "Settings",
    "decode",
    "encode",
    "is_camera_id",
    "is_request_id",
]
