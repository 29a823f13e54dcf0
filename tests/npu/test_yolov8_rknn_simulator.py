"""The ``yolov8-rknn`` decoder against the toolkit's real output layout.

A small ONNX model is built here with exactly rknn_model_zoo's YOLOv8 signature (per
scale: 64 DFL box channels, the class scores sigmoided, their clipped sum; 9 outputs),
with random weights. The toolkit converts it and its simulator runs it; the project's
decoder reads what the simulator returns through ``RknnBackend``, as on the board. An
independent decode of the float model's ONNX outputs, written here from the zoo's
``post_process``, must find the same boxes.

The conversion is float16, not int8: this test is about layout and decoding (output
order, NCHW, DFL, grid offsets, letterbox), which quantization error would blur.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from is21.ops.npu.toolkit import Conversion, Simulator
from is21.workers.backends.rknn import RknnBackend
from is21.workers.formats.yolov8 import Yolov8RknnFormat
from is21.workers.image import Prepared, prepare
from tests.conftest import SAMPLES, require_shared

pytestmark = pytest.mark.npu
SIZE, NC, STRIDES, CONF = 160, 3, (8, 16, 32), 0.4
MARGIN = 0.01  # float16's rounding of a score: closer calls may go either way


def build_model(path: Path, seed: int = 7) -> None:
    """Per scale: pool the image to the grid, two 1x1 convs (box logits, classes)."""
    rng = np.random.default_rng(seed)
    nodes, inits, outputs = [], [], []
    for s in STRIDES:
        h = SIZE // s
        pool, box, logit, cls, total = (f"{n}_{s}" for n in ("pool", "box", "logit", "cls", "sum"))
        nodes.append(
            helper.make_node("AveragePool", ["images"], [pool], kernel_shape=[s, s], strides=[s, s])
        )
        for name, ch, scale, bias in (("wb", 64, 3.0, 0.0), ("wc", NC, 6.0, -3.5)):
            w = (rng.standard_normal((ch, 3, 1, 1)) * scale).astype(np.float32)
            b = (rng.standard_normal(ch) * 0.5 + bias).astype(np.float32)
            inits += [
                numpy_helper.from_array(w, f"{name}_{s}"),
                numpy_helper.from_array(b, f"{name}b_{s}"),
            ]
        nodes.append(helper.make_node("Conv", [pool, f"wb_{s}", f"wbb_{s}"], [box]))
        nodes.append(helper.make_node("Conv", [pool, f"wc_{s}", f"wcb_{s}"], [logit]))
        nodes.append(helper.make_node("Sigmoid", [logit], [cls]))
        nodes.append(helper.make_node("ReduceSum", [cls], [f"raw_{total}"], axes=[1], keepdims=1))
        inits += [
            numpy_helper.from_array(np.array(0, np.float32), f"lo_{s}"),
            numpy_helper.from_array(np.array(1, np.float32), f"hi_{s}"),
        ]
        nodes.append(helper.make_node("Clip", [f"raw_{total}", f"lo_{s}", f"hi_{s}"], [total]))
        outputs += [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, c, h, h])
            for n, c in ((box, 64), (cls, NC), (total, 1))
        ]
    graph = helper.make_graph(
        nodes,
        "yolov8_rknn_signature",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)  # fmt: skip


def reference_decode(
    outs: list[npt.NDArray[np.float32]], prep: Prepared
) -> list[tuple[int, float, npt.NDArray[np.float64]]]:
    """The zoo's post_process, restated: DFL expectation, (grid + 0.5 -/+ d) * stride.

    No NMS (the project's decoder runs with IoU 1.0 here): NMS would pick between
    neighbouring cells whose scores tie within float16, hiding what this test checks.
    """
    found = []
    for level, s in enumerate(STRIDES):
        box, cls = outs[3 * level][0].astype(np.float64), outs[3 * level + 1][0]
        h = box.shape[1]
        logits = box.reshape(4, 16, h, h)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        dist = (p / p.sum(axis=1, keepdims=True) * np.arange(16).reshape(1, 16, 1, 1)).sum(axis=1)
        for gy in range(h):
            for gx in range(h):
                c = int(cls[:, gy, gx].argmax())
                score = float(cls[c, gy, gx])
                if score <= CONF:
                    continue
                left, top, right, bottom = dist[:, gy, gx]
                xyxy = np.array(
                    [gx + 0.5 - left, gy + 0.5 - top, gx + 0.5 + right, gy + 0.5 + bottom]
                )
                xyxy *= s
                xyxy -= [prep.pad_x, prep.pad_y, prep.pad_x, prep.pad_y]
                xyxy /= prep.scale
                xyxy = np.clip(xyxy, 0, [prep.orig_width, prep.orig_height] * 2)
                runner_up = float(np.sort(cls[:, gy, gx])[-2])
                if score - runner_up > MARGIN:  # else float16 may crown the other class
                    found.append((c, score, xyxy))
    return found


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("yolov8rknn") / "yolov8_rknn_signature.onnx"
    build_model(path)
    return path


def test_the_decoder_reads_the_simulator_as_the_zoo_reads_the_float_model(
    model: Path, toolkit_venv: Path
) -> None:
    require_shared()
    photos = sorted(SAMPLES.glob("*.jpg"))
    fmt = Yolov8RknnFormat((SIZE, SIZE), NC)
    conversion = Conversion(
        model, "yolov8-rknn", "rk3588", (SIZE, SIZE), NC, tuple(photos[:4]),
        input_scale=1 / 255, dtype="float16",
    )  # fmt: skip
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    simulator = Simulator(conversion, toolkit_venv)
    compared = 0
    try:
        backend = RknnBackend(model, api_class=simulator.as_rknnlite())
        for photo in photos:
            prep = prepare(photo.read_bytes(), fmt.letterbox(SIZE, SIZE), 10**9)
            float_in = prep.pixels.transpose(2, 0, 1)[np.newaxis].astype(np.float32) / 255
            expected = reference_decode(session.run(None, {"images": float_in}), prep)
            raw = fmt.decode(backend.run(prep.pixels), prep, CONF, 1.0)
            got = list(zip(raw.classes.tolist(), raw.scores.tolist(), raw.boxes, strict=True))
            clear = [e for e in expected if e[1] > CONF + MARGIN]
            assert len(clear) <= len(got), photo.name
            for c, score, xyxy in clear:
                assert any(
                    g[0] == c and abs(g[1] - score) < MARGIN and np.abs(g[2] - xyxy).max() < 1.0
                    for g in got
                ), (photo.name, c, score, xyxy)
            compared += len(clear)
    finally:
        simulator.close()
    assert compared >= 100  # the random head must fire often for this to mean anything
