"""YOLOX decoding against boxes computed by hand from PROVENANCE.md's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from is21.workers.formats.yolox import YoloxFormat
from is21.workers.image import Prepared

NC = 3


def row_index(stride: int, gx: int, gy: int) -> int:
    offset = {8: 0, 16: 52 * 52, 32: 52 * 52 + 26 * 26}[stride]
    width = 416 // stride
    return offset + gy * width + gx


def blank() -> np.ndarray:
    return np.zeros((1, 3549, 5 + NC), np.float32)


def put(
    out: np.ndarray, idx: int, t: tuple[float, float, float, float], obj: float, cls: list[float]
) -> None:
    out[0, idx, :4] = t
    out[0, idx, 4] = obj
    out[0, idx, 5:] = cls


def prep(scale: float = 0.5, w: int = 832, h: int = 832) -> Prepared:
    return Prepared(np.zeros((416, 416, 3), np.uint8), scale, 0, 0, w, h)


def test_one_box_decodes_to_hand_computed_pixels() -> None:
    out = blank()
    # stride 16, cell (5, 3): cx = (0.5+5)*16 = 88, cy = (0.25+3)*16 = 52,
    # w = e^ln2 * 16 = 32, h = e^0 * 16 = 16 -> input box (72, 44, 104, 60);
    # the image was scaled by 0.5, so the original box is (144, 88, 208, 120).
    put(out, row_index(16, 5, 3), (0.5, 0.25, math.log(2), 0.0), 0.9, [0.1, 0.8, 0.2])
    dets = YoloxFormat((416, 416), NC).decode([out], prep(), conf=0.3, iou=0.45)
    assert len(dets) == 1
    np.testing.assert_allclose(dets.boxes[0], [144, 88, 208, 120], atol=1e-3)
    assert dets.classes[0] == 1
    assert dets.scores[0] == pytest.approx(0.9 * 0.8)


def test_levels_and_row_major_order() -> None:
    out = blank()
    # stride 32, cell (12, 0): cx = 12.5*32 = 400, cy = 0.5*32 = 16, w = h = 32.
    put(out, row_index(32, 12, 0), (0.5, 0.5, 0.0, 0.0), 1.0, [0.0, 0.0, 0.9])
    # stride 8, cell (0, 51): cx = 0.5*8 = 4, cy = 51.5*8 = 412, w = h = 8.
    put(out, row_index(8, 0, 51), (0.5, 0.5, 0.0, 0.0), 1.0, [0.9, 0.0, 0.0])
    dets = YoloxFormat((416, 416), NC).decode([out], prep(1.0, 416, 416), 0.3, 0.45)
    by_class = {int(c): b for c, b in zip(dets.classes, dets.boxes, strict=True)}
    np.testing.assert_allclose(by_class[2], [384, 0, 416, 32], atol=1e-3)
    np.testing.assert_allclose(by_class[0], [0, 408, 8, 416], atol=1e-3)


def test_threshold_uses_objectness_times_class() -> None:
    out = blank()
    put(out, row_index(8, 10, 10), (0, 0, 0, 0), 0.5, [0.5, 0, 0])  # 0.25 < 0.3
    assert len(YoloxFormat((416, 416), NC).decode([out], prep(), 0.3, 0.45)) == 0


def test_nms_is_per_class() -> None:
    out = blank()
    t = (0.5, 0.5, math.log(4), math.log(4))
    put(out, row_index(8, 20, 20), t, 1.0, [0.9, 0, 0])
    put(out, row_index(8, 21, 20), t, 1.0, [0.8, 0, 0])  # same class, IoU 0.6: suppressed
    put(out, row_index(8, 21, 21), t, 1.0, [0, 0.7, 0])  # other class: kept
    dets = YoloxFormat((416, 416), NC).decode([out], prep(), 0.3, 0.45)
    assert sorted(dets.scores.tolist()) == pytest.approx([0.7, 0.9])


def test_boxes_are_clipped_to_the_original_image() -> None:
    out = blank()
    put(out, row_index(32, 0, 0), (0, 0, math.log(4), math.log(4)), 1.0, [0.9, 0, 0])
    dets = YoloxFormat((416, 416), NC).decode([out], prep(1.0, 100, 50), 0.3, 0.45)
    np.testing.assert_allclose(dets.boxes[0], [0, 0, 64, 50], atol=1e-3)


def test_wrong_output_shape_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not match"):
        YoloxFormat((416, 416), NC).decode([np.zeros((1, 100, 8), np.float32)], prep(), 0.3, 0.45)
