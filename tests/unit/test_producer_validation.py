"""What submit refuses, before anything reaches Redis (fakeredis: nothing may be written)."""

from __future__ import annotations

import fakeredis
import pytest

from is21.producer import (
    FrameProducer,
    FrameTooLarge,
    InvalidCameraId,
    InvalidRequestId,
    NotAJpeg,
)
from is21.schemas.settings import Settings

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


@pytest.fixture
def fake() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def producer(fake: fakeredis.FakeRedis) -> FrameProducer:
    return FrameProducer(fake, Settings(max_frame_bytes=4096))


@pytest.mark.parametrize(
    "camera_id",
    [
        "",
        "a:b",
        "cam*",
        "cam\nid",
        "x" * 65,
        "camé",
        "../etc",
        "a b",
        "{tag}",
        "x" * 10_000,
    ],
)
def test_bad_camera_ids(producer: FrameProducer, fake: fakeredis.FakeRedis, camera_id: str) -> None:
    with pytest.raises(InvalidCameraId, match="camera id must match"):
        producer.submit(camera_id, JPEG)
    assert fake.keys("*") == []


@pytest.mark.parametrize("request_id", ["", "a:b", "r\n", "r" * 129, "*"])
def test_bad_request_ids(
    producer: FrameProducer, fake: fakeredis.FakeRedis, request_id: str
) -> None:
    with pytest.raises(InvalidRequestId):
        producer.submit("cam1", JPEG, request_id=request_id)
    assert fake.keys("*") == []


@pytest.mark.parametrize(
    "frame", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"GIF89a", b"\xff\xd8"]
)
def test_not_a_jpeg(producer: FrameProducer, fake: fakeredis.FakeRedis, frame: bytes) -> None:
    with pytest.raises(NotAJpeg):
        producer.submit("cam1", frame)
    assert fake.keys("*") == []


def test_frame_too_large(producer: FrameProducer, fake: fakeredis.FakeRedis) -> None:
    with pytest.raises(FrameTooLarge, match="IS21_MAX_FRAME_BYTES=4096"):
        producer.submit("cam1", JPEG + b"\x00" * 4096)
    assert fake.keys("*") == []


def test_valid_ids_pass_validation(producer: FrameProducer) -> None:
    for cam in ("cam1", "Front_Door-2.east", "x" * 64):
        producer.validate(cam, JPEG, "0b6f4d1c-req.1")


def test_settings_refuse_unknown_redis_schemes() -> None:
    with pytest.raises(ValueError, match="IS21_REDIS_URL"):
        Settings(redis_url="http://example")
    for url in ("redis://u:p@h:1/0", "rediss://h:6380", "unix:///tmp/r.sock"):
        assert Settings(redis_url=url).effective_redis_url == url
