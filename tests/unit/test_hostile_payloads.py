"""Anything read from Redis is untrusted: any bytes give a message or a clear error.

Property tests (hypothesis) for the msgpack codec, the result and frame-metadata models
and the event schema parser: never a crash of another type, never a hang.
"""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from is21.protocol.schema_store import SchemaError, parse_schema
from is21.schemas import codec
from is21.schemas.frames import FrameMeta
from is21.schemas.results import Result

FAST = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

# msgpack-shaped values, including the shapes a careless or hostile writer would use.
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=50)
    | st.binary(max_size=50)
)
values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=20), kids, max_size=5)
    ),
    max_leaves=20,
)
result_fields = st.sampled_from(list(Result.model_fields))
result_like = st.dictionaries(result_fields, values, max_size=12)


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_decode_to_a_result_or_a_codec_error(data: bytes) -> None:
    with contextlib.suppress(codec.CodecError):
        codec.decode(data, Result)


@FAST
@given(result_like)
def test_any_map_of_result_fields_validates_or_is_a_codec_error(obj: dict[str, object]) -> None:
    try:
        result = codec.decode(msgpack.packb(obj, use_bin_type=True), Result)
    except codec.CodecError:
        return
    # What validates survives a round trip unchanged.
    assert codec.decode(codec.encode(result), Result) == result


@FAST
@given(st.dictionaries(st.sampled_from(["captured_at", "request_id", "x"]), values, max_size=3))
def test_frame_metadata_validates_or_is_refused(obj: dict[str, object]) -> None:
    from pydantic import ValidationError

    with contextlib.suppress(ValidationError):
        FrameMeta(camera_id="cam", seq=1, frame_id="1-0", **obj)  # type: ignore[arg-type]


@FAST
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_any_schema_text_parses_or_is_a_schema_error(data: bytes | str) -> None:
    with contextlib.suppress(SchemaError):
        parse_schema(data)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["version", "events", "priority", "cameras"]), values, max_size=4
    )
)
def test_any_schema_shape_parses_or_is_a_schema_error(obj: dict[str, object]) -> None:
    import json

    with contextlib.suppress(SchemaError):
        parse_schema(json.dumps(obj, default=repr))


def test_deeply_nested_payload_is_refused_not_a_recursion_crash() -> None:
    deep = b"\x91" * 100_000 + b"\xc0"  # 100 000 nested one-element arrays
    with pytest.raises(codec.CodecError):
        codec.decode(deep, Result)
