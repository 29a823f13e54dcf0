"""`is21 models convert` of the shared YOLOX-nano for the RK3588, as an operator runs it:
convert, compare on the sample photos, install into a board's model folder, verify."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from is21.workers.manifest import REPO_MANIFEST, load_manifest, sha256_of
from tests.conftest import MODEL_DIR, SAMPLES, require_shared, run_is21

pytestmark = pytest.mark.npu
SOURCE = MODEL_DIR / "yolox_nano.onnx"


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    require_shared()
    models = tmp_path_factory.mktemp("board")
    shutil.copyfile(REPO_MANIFEST, models / "manifest.toml")
    shutil.copyfile(SOURCE, models / "yolox_nano.onnx")
    return {"IS21_MODEL_DIR": str(models), "IS21_MANIFEST": str(models / "manifest.toml")}


@pytest.fixture(scope="module")
def converted(board: dict[str, str], toolkit_venv: Path) -> Path:
    """The .rknn `convert --install` wrote (its compare ran first and had to pass)."""
    out = Path(board["IS21_MODEL_DIR"]).parent / "yolox_nano-rk3588.rknn"
    env = {**board, "IS21_RKNN_TOOLKIT": str(toolkit_venv)}
    done = run_is21(
        "models", "convert", str(SOURCE), "--format", "yolox", "--target", "rk3588",
        "--calibration", str(SAMPLES), "--out", str(out), "--install", env=env, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "events identical on 16 of 16 images" in done.stdout, done.stdout
    assert "verdict: pass" in done.stdout
    return out


def test_convert_installs_a_traceable_entry(converted: Path, board: dict[str, str]) -> None:
    manifest = load_manifest(Path(board["IS21_MANIFEST"]))
    (entry,) = [d for d in manifest.detector if d.backend == "rknn"]
    assert entry.name == "yolox-nano-coco-rk3588" and entry.format == "yolox-rknn"
    assert entry.sha256 == sha256_of(converted) and entry.input_size == (416, 416)
    assert entry.labels[0] == "person" and len(entry.labels) == 80
    assert entry.converted is not None and entry.converted.target == "rk3588"
    assert entry.converted.source_sha256 == sha256_of(SOURCE)
    assert isinstance(entry.converted.float_layers, list) and entry.converted.float_layers
    assert entry.converted.calibration_images == 16
    assert (Path(board["IS21_MODEL_DIR"]) / entry.file).is_file()
    # The float model stays for the x86 workers; the board's workers load the rknn one.
    verify = run_is21("models", "verify", env=board)
    assert verify.returncode == 0, verify.stdout
    assert "backend rknn not runnable on this host" in verify.stdout


def test_compare_meets_the_targets(converted: Path, toolkit_venv: Path) -> None:
    """Rebuilt from the entry's recorded float16 layers: the same model, ten times faster."""
    done = run_is21(
        "models", "compare", str(SOURCE), "--candidate", str(SOURCE), "--format", "yolox",
        "--calibration", str(SAMPLES), "--images", str(SAMPLES), "--json",
        "--float-layers", str(converted.with_suffix(".toml")),
        env={"IS21_RKNN_TOOLKIT": str(toolkit_venv)}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    result = json.loads(done.stdout)
    totals = result["totals"]
    assert result["verdict"] == "pass", result["failures"]
    assert totals["images"] == totals["events_identical"] == 16
    assert totals["median_iou"] >= 0.9 and totals["median_drift"] <= 0.05
    people = [m for r in result["images"] for m in r["matched"] if m["label"] == "person"]
    assert len(people) >= 10


def test_plain_int8_is_caught_by_compare(toolkit_venv: Path) -> None:
    """What the obvious conversion does: compare must fail it, naming the lost events."""
    require_shared()
    done = run_is21(
        "models", "compare", str(SOURCE), "--candidate", str(SOURCE), "--format", "yolox",
        "--calibration", str(SAMPLES), "--images", str(SAMPLES), "--float-layers", "none",
        env={"IS21_RKNN_TOOLKIT": str(toolkit_venv)}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "verdict: fail" in done.stdout and "events differ on" in done.stdout


def test_other_rk35xx_targets_convert(converted: Path, toolkit_venv: Path, tmp_path: Path) -> None:
    for target in ("rk3576", "rk3566"):
        out = tmp_path / f"yolox_nano-{target}.rknn"
        done = run_is21(
            "models", "convert", str(SOURCE), "--format", "yolox", "--target", target,
            "--calibration", str(SAMPLES), "--out", str(out),
            "--float-layers", str(converted.with_suffix(".toml")),
            env={"IS21_RKNN_TOOLKIT": str(toolkit_venv)}, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        entry = load_manifest(out.with_suffix(".toml")).detector[0]
        assert entry.converted is not None and entry.converted.target == target
