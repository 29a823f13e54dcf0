"""The contract of the fleet: what crosses Redis, under which key names, and the settings."""

from schemas.codec import CodecError, decode, encode
from schemas.events import DEFAULT_SCHEMA, EventRule, EventSchema
from schemas.frames import FrameMeta, is_camera_id, is_request_id
from schemas.results import NO_EVENT, Detection, Result
from schemas.settings import Settings

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
