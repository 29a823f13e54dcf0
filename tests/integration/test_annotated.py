"""Annotated frames end to end (issue 33): a real fleet serves a camera's newest frame
with its own result's boxes drawn on, over HTTP and as ``is21 snapshot``; a frame with no
result of its own is shown bare and says why."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import redis
from PIL import Image

from is21.ops.annotate import PERSON, Picture, annotate
from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.results import Result
from tests.conftest import Fleet, Health, fleet_env, run_is21
from tests.samples import photo

pytestmark = pytest.mark.integration

PEOPLE = "COCO_val2014_000000181542.jpg"  # a busy street crossing: eight people


def pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)


def red_on_top_edges(drawn: np.ndarray, result: Result) -> float:
    """The share of the people's boxes' top edges drawn in the person colour."""
    hits = []
    for det in result.detections:
        if det.label != "person":
            continue
        x1, y1, x2, _ = (round(v) for v in det.box)
        hits += [
            bool(np.abs(drawn[y1 + 1, x] - np.array(PERSON)).max() < 60)
            for x in range(x1 + 4, x2 - 4, 3)
        ]
    return sum(hits) / max(len(hits), 1)


def test_a_cameras_newest_frame_is_served_with_its_own_boxes(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    health_factory: Callable[..., Health],
    redis_server: EmbeddedRedis,
    tmp_path: Path,
) -> None:
    fleet_factory(1)
    health = health_factory()
    frame = photo(PEOPLE)
    result = producer.wait(producer.submit("street", frame), timeout=30)
    assert sum(d.label == "person" for d in result.detections) >= 4
    status, jpeg = health.request("/v1/cameras/street/latest.jpg")
    assert status == 200 and jpeg[:2] == b"\xff\xd8"
    drawn = pixels(jpeg)
    assert drawn.shape == pixels(frame).shape  # the frame's own size
    # Exactly what ops/annotate.py draws for this frame and its result (the unit tests
    # check that pixel by pixel); on a crowded street boxes and labels cover each other.
    (rid,) = [i for i, _ in producer.client.xrange(keys.results("street"))]
    drawn_here = Picture(frame, "street", result.frame_id, result, result_id=rid.decode())
    assert jpeg == annotate(drawn_here, 10**8)
    assert red_on_top_edges(drawn, result) > 0.5
    assert red_on_top_edges(pixels(frame), result) < 0.1  # the photo alone is not red there
    assert health.request("/v1/cameras/street/latest.jpg?raw=1") == (200, frame)
    # The same picture as a file, from the command line.
    out = tmp_path / "street.jpg"
    env = fleet_env(redis_server.url)
    said = run_is21("snapshot", "street", "--out", str(out), env=env)
    assert said.returncode == 0, said.stderr
    assert f"frame {result.frame_id}  result {rid.decode()}  " in said.stdout, said.stdout
    assert said.stdout.rstrip().endswith("human")
    assert out.read_bytes() == jpeg
    # Unknown cameras and other keys are not there to be read.
    missing, body = health.request("/v1/cameras/nobody/latest.jpg")
    assert missing == 404 and b"no frame kept" in body
    assert health.request("/v1/cameras/..%2Fschema/latest.jpg")[0] == 404
    assert health.request("/v1/cameras/street/latest.jpg", method="PUT")[0] == 405
    assert run_is21("snapshot", "nobody", env=env).returncode == 1


def test_a_frame_without_its_own_result_says_so_and_has_no_boxes(
    client: redis.Redis, health_factory: Callable[..., Health], redis_server: EmbeddedRedis
) -> None:
    """A frame stored with no worker to serve it: the picture must not borrow a result."""
    health = health_factory()
    client.xadd(keys.frames("waiting"), {"jpeg": photo(PEOPLE)})
    status, jpeg = health.request("/v1/cameras/waiting/latest.jpg")
    assert status == 200
    drawn, plain = pixels(jpeg), pixels(photo(PEOPLE))
    assert drawn.shape == plain.shape
    assert np.abs(drawn - plain)[:-40].mean() < 4  # the JPEG's own noise: no box
    said = run_is21("snapshot", "waiting", "--out", "/dev/null", env=fleet_env(redis_server.url))
    assert said.returncode == 0 and "no result yet for this frame" in said.stdout
