from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest

from is21.schemas import codec
from is21.schemas.results import Detection, Result


def make_result() -> Result:
    return Result(
        camera_id="cam-1",
        frame_id="1700000000000-0",
        seq=7,
        status="ok",
        primary_event="human",
        events=["human"],
        detections=[Detection(label="person", score=0.91, box=(1.0, 2.0, 30.5, 80.0), model="m")],
        processing_ms=23.5,
        queue_ms=1.25,
        skipped=2,
        model="m",
        model_sha256="ab",
        schema_version="2026-11-23.1",
        worker="w0",
        request_id="req-1",
        captured_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )


def test_result_round_trip() -> None:
    result = make_result()
    assert codec.decode(codec.encode(result), Result) == result


def test_error_result_round_trip_keeps_reason() -> None:
    result = Result(camera_id="c", frame_id="1-0", seq=1, status="error", error="ImageError: x")
    back = codec.decode(codec.encode(result), Result)
    assert back.status == "error" and back.error == "ImageError: x" and back.detections == []


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",
        b"\x92\x01",
        b"not msgpack at all \xff\xfe",
        msgpack.packb([1, 2, 3]),
        msgpack.packb("text"),
    ],
)
def test_garbage_is_a_codec_error(payload: bytes) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(payload, Result)


def test_wrong_fields_are_a_codec_error() -> None:
    bad = msgpack.packb({"camera_id": "c", "seq": "not a number", "status": "ok"})
    with pytest.raises(codec.CodecError, match="invalid Result"):
        codec.decode(bad, Result)


def test_unknown_status_is_refused() -> None:
    data = codec.encode(make_result()).replace(b"\xa2ok", b"\xa2no")
    with pytest.raises(codec.CodecError):
        codec.decode(data, Result)


def test_oversized_payload_is_refused_before_parsing() -> None:
    with pytest.raises(codec.CodecError, match="exceeds"):
        codec.unpackb(b"\x00" * (codec.MAX_PAYLOAD + 1))
