"""Annotated frames (issue 33): what the picture shows is exactly the result. A known
result drawn on a real sample photo: each box's edges are in its label's colour, and
nothing is drawn where the result has no box."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from is21.ops.annotate import ANIMAL, PERSON, Picture, annotate, caption
from is21.schemas.results import Detection, Result
from is21.workers.image import ImageError
from tests.samples import photo

PHOTO = "COCO_val2014_000000181296.jpg"  # 640x436: a rider, a motorcycle, a car
BOXES = {"person": (200.0, 60.0, 330.0, 300.0), "dog": (420.0, 250.0, 560.0, 400.0)}


def result(
    width: int = 640, height: int = 436, gated: bool = False, gated_from: str | None = None
) -> Result:
    return Result(
        camera_id="door",
        frame_id="1796000000000-0",
        seq=7,
        status="ok",
        primary_event="human",
        events=["human", "animal"],
        detections=[Detection(label=k, score=0.87, box=b) for k, b in BOXES.items()],
        width=width,
        height=height,
        captured_at=datetime(2026, 12, 6, 3, 12, 5, tzinfo=UTC),
        gated=gated,
        gated_from=gated_from,
    )


def pixels(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)


def near(pixel: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel - np.array(rgb)).max() < 60)  # JPEG moves colours a little


def test_each_box_is_drawn_on_its_edges_in_its_colour_and_nothing_else() -> None:
    original = photo(PHOTO)
    drawn = pixels(annotate(Picture(original, "door", "1796000000000-0", result()), 10**8))
    plain = pixels(original)
    assert drawn.shape == plain.shape  # the frame's own size
    for label, rgb in (("person", PERSON), ("dog", ANIMAL)):
        x1, y1, x2, y2 = (round(v) for v in BOXES[label])
        edges = [drawn[y1 + 1, x] for x in range(x1 + 4, x2 - 4, 6)]  # the top edge
        edges += [drawn[y2 - 1, x] for x in range(x1 + 4, x2 - 4, 6)]  # the bottom
        edges += [drawn[y, x1 + 1] for y in range(y1 + 4, y2 - 4, 6)]  # the left
        edges += [drawn[y, x2 - 1] for y in range(y1 + 4, y2 - 4, 6)]  # the right
        assert all(near(p, rgb) for p in edges), label
    # Outside the boxes and their labels (and the 16-pixel blocks the JPEG encodes them
    # in, with the next one that its chroma smoothing reaches), the picture is the one
    # drawn for a result without detections, to the pixel.
    empty = result().model_copy(update={"detections": []})
    bare = pixels(annotate(Picture(original, "door", "1796000000000-0", empty), 10**8))
    untouched = np.ones(plain.shape[:2], dtype=bool)
    for x1, y1, x2, y2 in BOXES.values():
        untouched[max(int(y1) - 64, 0) : int(y2) + 32, int(x1) - 32 : int(x2) + 32] = False
    assert untouched.mean() > 0.4
    assert np.abs(drawn - bare)[untouched].max() == 0


def test_boxes_are_scaled_from_the_results_frame_size() -> None:
    half = photo(PHOTO)  # drawn on the photo, with a result that says it was 1280x872
    drawn = pixels(annotate(Picture(half, "door", "1-0", result(1280, 872)), 10**8))
    x1, y1, x2, _ = (round(v / 2) for v in BOXES["person"])
    assert all(near(drawn[y1 + 1, x], PERSON) for x in range(x1 + 4, x2 - 4, 6))


def test_a_frame_without_its_own_result_is_drawn_bare_and_says_why() -> None:
    original = photo(PHOTO)
    bare = Picture(original, "door", "1-0", None, "no result yet for this frame")
    empty = Picture(original, "door", "1-0", result().model_copy(update={"detections": []}))
    drawn, baseline = pixels(annotate(bare, 10**8)), pixels(annotate(empty, 10**8))
    assert np.abs(drawn - baseline)[:-48].max() == 0  # no box: only the caption differs
    assert caption(bare) == "door  frame 1-0  no result yet for this frame"


def test_the_caption_names_the_result_camera_time_and_event() -> None:
    told = caption(Picture(b"", "door", "1796000000000-0", result(), result_id="1796000000050-0"))
    assert told == (
        "door  frame 1796000000000-0  result 1796000000050-0  2026-12-06 03:12:05 UTC  human"
    )
    gated = caption(Picture(b"", "door", "2-0", result(gated=True, gated_from="1-0")))
    assert gated.endswith("human  (gated: boxes of 1-0)")


def test_a_frame_that_does_not_decode_is_an_image_error() -> None:
    with pytest.raises(ImageError):
        annotate(Picture(photo(PHOTO)[:3000], "door", "1-0"), 10**8)
