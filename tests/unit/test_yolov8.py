"""YOLOv8 decoders against hand-computed boxes, and end to end through onnxruntime."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from is21.workers.detector import Detector
from is21.workers.formats.yolov8 import Yolov8Format, Yolov8RknnFormat, dfl
from is21.workers.image import Prepared
from is21.workers.manifest import ModelSpec

NC = 3


def prep(scale: float, pad_x: int, pad_y: int, w: int, h: int) -> Prepared:
    return Prepared(np.zeros((64, 64, 3), np.uint8), scale, pad_x, pad_y, w, h)


def ultralytics_output(rows: list[list[float]], n: int = 6) -> np.ndarray:
    out = np.zeros((1, 4 + NC, n), np.float32)
    for i, row in enumerate(rows):
        out[0, :, i] = row
    return out


def test_yolov8_one_box() -> None:
    # cx 100, cy 50, w 40, h 20 -> input box (80, 40, 120, 60); the image was scaled by
    # 0.5 and padded 10 px on top: original (160, 60, 240, 100).
    out = ultralytics_output([[100, 50, 40, 20, 0.1, 0.9, 0.2]])
    dets = Yolov8Format((640, 640), NC).decode([out], prep(0.5, 0, 10, 1280, 1000), 0.25, 0.45)
    assert len(dets) == 1 and dets.classes[0] == 1
    np.testing.assert_allclose(dets.boxes[0], [160, 60, 240, 100], atol=1e-3)
    assert dets.scores[0] == pytest.approx(0.9)


def test_yolov8_threshold_nms_and_shape_check() -> None:
    out = ultralytics_output(
        [
            [100, 100, 50, 50, 0.8, 0, 0],
            [102, 100, 50, 50, 0.7, 0, 0],  # same class, heavy overlap: suppressed
            [100, 100, 50, 50, 0, 0.6, 0],  # other class: kept
            [300, 300, 10, 10, 0.2, 0, 0],  # under the threshold
        ]
    )
    dets = Yolov8Format((640, 640), NC).decode([out], prep(1, 0, 0, 640, 640), 0.25, 0.45)
    assert sorted(dets.scores.tolist()) == pytest.approx([0.6, 0.8])
    with pytest.raises(ValueError, match="not"):
        Yolov8Format((640, 640), NC).decode(
            [np.zeros((1, 9, 4), np.float32)], prep(1, 0, 0, 1, 1), 0.25, 0.45
        )


def test_yolov8_letterbox_is_centred_rgb_114() -> None:
    box = Yolov8Format((640, 640), NC).letterbox(640, 640)
    assert (box.channels, box.align, box.pad_value) == ("RGB", "center", 114)
    assert Yolov8Format.input_scale == pytest.approx(1 / 255)


def one_hot_dfl(sides: tuple[int, int, int, int]) -> np.ndarray:
    logits = np.full((4, 16), -20.0, np.float32)
    for side, k in enumerate(sides):
        logits[side, k] = 20.0
    return logits.reshape(64)


def rknn_outputs(size: int = 64) -> list[np.ndarray]:
    outs = []
    for stride in (8, 16, 32):
        g = size // stride
        outs += [
            np.zeros((1, 64, g, g), np.float32),
            np.zeros((1, NC, g, g), np.float32),
            np.zeros((1, 1, g, g), np.float32),
        ]
    return outs


def test_dfl_expectation() -> None:
    dist = dfl(one_hot_dfl((2, 1, 3, 4)).reshape(64, 1, 1))
    np.testing.assert_allclose(dist[:, 0, 0], [2, 1, 3, 4], atol=1e-4)


def test_yolov8_rknn_one_box() -> None:
    outs = rknn_outputs()
    # stride 8, cell (gx 3, gy 2), distances l 2, t 1, r 3, b 4 (grid units):
    # x1 = (3.5-2)*8 = 12, y1 = (2.5-1)*8 = 12, x2 = (3.5+3)*8 = 52, y2 = (2.5+4)*8 = 52.
    outs[0][0, :, 2, 3] = one_hot_dfl((2, 1, 3, 4))
    outs[1][0, 2, 2, 3] = 0.8
    outs[2][0, 0, 2, 3] = 0.8
    # stride 32, cell (1, 1), every side 1 grid unit = 32 px: (16, 16, 80, 80), clipped to 64.
    outs[6][0, :, 1, 1] = one_hot_dfl((1, 1, 1, 1))
    outs[7][0, 0, 1, 1] = 0.7
    outs[8][0, 0, 1, 1] = 0.7
    dets = Yolov8RknnFormat((64, 64), NC).decode(outs, prep(1, 0, 0, 64, 64), 0.25, 0.45)
    by_class = {
        int(c): (b, s) for b, s, c in zip(dets.boxes, dets.scores, dets.classes, strict=True)
    }
    np.testing.assert_allclose(by_class[2][0], [12, 12, 52, 52], atol=1e-3)
    assert by_class[2][1] == pytest.approx(0.8)
    np.testing.assert_allclose(by_class[0][0], [16, 16, 64, 64], atol=1e-3)  # clipped at 64


def test_yolov8_rknn_score_sum_prefilter_and_errors() -> None:
    outs = rknn_outputs()
    outs[1][0, 1, 0, 0] = 0.9  # a class score whose sum branch says nothing: skipped
    fmt = Yolov8RknnFormat((64, 64), NC)
    assert len(fmt.decode(outs, prep(1, 0, 0, 64, 64), 0.25, 0.45)) == 0
    with pytest.raises(ValueError, match="9 outputs"):
        fmt.decode(outs[:6], prep(1, 0, 0, 64, 64), 0.25, 0.45)


def constant_yolov8_model(path: Path) -> None:
    """A graph whose one box is fixed and whose class-1 score is 0.9 x max(input).

    With the input scaled to 0..1 (a white image) the score is 0.9; fed raw 0..255 it
    would be far over 1, so the test also proves the backend applies the format's scale.
    """
    base = np.zeros((1, 4 + NC, 4), np.float32)
    base[0, :4, 0] = [32, 32, 16, 16]  # cx, cy, w, h in the 64x64 input
    mask = np.zeros_like(base)
    mask[0, 5, 0] = 0.9
    nodes = [
        helper.make_node("ReduceMax", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["mask", "m"], ["scaled"]),
        helper.make_node("Add", ["base", "scaled"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolov8-stub",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + NC, 4])],
        initializer=[numpy_helper.from_array(base, "base"), numpy_helper.from_array(mask, "mask")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def test_yolov8_end_to_end_through_onnxruntime(tmp_path: Path) -> None:
    path = tmp_path / "stub.onnx"
    constant_yolov8_model(path)
    spec = ModelSpec(
        name="stub",
        file="stub.onnx",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        backend="onnx",
        format="yolov8",
        input_size=(64, 64),
        labels=["a", "b", "c"],
        score_threshold=0.25,
    )
    detector = Detector.load(spec, tmp_path, threads=1)
    buf = io.BytesIO()
    Image.new("RGB", (128, 64), (255, 255, 255)).save(buf, "JPEG", quality=100)
    (det,) = detector.detect(buf.getvalue(), 10**8)
    # 128x64 -> scale 0.5, 64x32 centred: pad_y 16. Input box (24, 24, 40, 40)
    # -> original ((24-0)/0.5, (24-16)/0.5, 40/0.5, (40-16)/0.5) = (48, 16, 80, 48).
    assert det.label == "b" and det.model == "stub"
    assert det.score == pytest.approx(0.9, abs=0.01)
    assert det.box == pytest.approx((48, 16, 80, 48), abs=0.1)
