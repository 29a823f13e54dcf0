"""``is21 models convert | compare`` refuse what cannot work, before the toolkit starts,
and say what to do instead. No toolkit is needed for any of these."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from tests.conftest import MODEL_DIR, SAMPLES, require_shared, run_is21

MODEL = str(MODEL_DIR / "yolox_nano.onnx")


def convert(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    require_shared()
    base = {"IS21_RKNN_TOOLKIT": str(tmp_path / "no-toolkit-here"), **env}
    out = run_is21("models", "convert", *args, "--out", str(tmp_path / "x.rknn"), env=base)
    assert not (tmp_path / "x.rknn").exists()
    return out.returncode, out.stderr


def dynamic_model(tmp_path: Path) -> str:
    model = onnx.load(MODEL)
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    model.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "height"
    path = tmp_path / "dynamic.onnx"
    onnx.save(model, path)
    return str(path)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not-onnx", "not an ONNX model onnxruntime can load"),
        ("dynamic", "is not a fixed [1, 3, H, W]"),
        ("unknown-format", "unknown format 'ssd'"),
        ("plain-yolov8", "refusing --format yolov8: a plain Ultralytics"),
        ("no-images", "no JPEG images"),
        ("target", "target 'rv1106' is not supported"),
        ("no-toolkit", "create it with `scripts/setup-rknn-toolkit`"),
    ],
)
def test_convert_refuses_with_the_reason(tmp_path: Path, case: str, expected: str) -> None:
    model, fmt, target, calibration = MODEL, "yolox", "rk3588", str(SAMPLES)
    if case == "not-onnx":
        model = str(tmp_path / "notes.onnx")
        Path(model).write_text("these are not weights")
    elif case == "dynamic":
        model = dynamic_model(tmp_path)
    elif case == "unknown-format":
        fmt = "ssd"
    elif case == "plain-yolov8":
        fmt = "yolov8"
    elif case == "no-images":
        calibration = str(tmp_path)
        (tmp_path / "readme.txt").write_text("no photos here")
    elif case == "target":
        target = "rv1106"
    code, err = convert(
        tmp_path, model, "--format", fmt, "--target", target, "--calibration", calibration
    )
    assert code == 2 and expected in err, err


def test_compare_needs_the_toolkit_too(tmp_path: Path) -> None:
    require_shared()
    out = run_is21(
        "models", "compare", MODEL, "--candidate", MODEL, "--format", "yolox",
        "--calibration", str(SAMPLES), "--images", str(SAMPLES),
        env={"IS21_RKNN_TOOLKIT": str(tmp_path / "absent")},
    )  # fmt: skip
    assert out.returncode == 2 and "rknn-toolkit2 venv is missing" in out.stderr, out.stderr
