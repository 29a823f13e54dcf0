"""msgpack encoding of the pydantic models that cross Redis.

msgpack, not pickle: whatever sits in Redis may have been written by anyone with access,
so decoding must never execute code, and a malformed payload must become a clear
``CodecError`` rather than an arbitrary exception deep in a worker.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgpack
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_PAYLOAD = 1024 * 1024


class CodecError(ValueError):
    """A payload read from Redis is not a valid message of the expected type."""


def explain(exc: ValidationError) -> str:
    """pydantic's refusal in one line: each field and why, without its links to
    errors.pydantic.dev or an echo of the input (which may be a 100 KB string)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def packb(obj: Any) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def unpackb(data: bytes, *, use_list: bool = True) -> Any:
    """``use_list=False``: arrays as tuples, for records built straight into frozen
    fields (a camera's tracks, decoded with every frame)."""
    if len(data) > MAX_PAYLOAD:
        raise CodecError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD}")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, use_list=use_list)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:  # ExtraData is a ValueError
        raise CodecError(f"not a msgpack message: {exc}") from exc


def encode(model: BaseModel) -> bytes:
    return packb(model.model_dump(mode="json", exclude_none=True))


def decode(data: bytes, model: type[M]) -> M:
    obj = unpackb(data)
    if not isinstance(obj, dict):
        raise CodecError(f"expected a map for {model.__name__}, got {type(obj).__name__}")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise CodecError(f"invalid {model.__name__}: {explain(exc)}") from exc
