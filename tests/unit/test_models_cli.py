"""Model rollout and rollback: atomic, verified, and safe against crashes between steps."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import onnx
import pytest

from is21.ops.models import install_model, rollback_model, verify_models
from is21.workers.manifest import REPO_MANIFEST, ModelError, load_manifest, sha256_of
from is21.workers.sample_check import sample_jpeg
from tests.conftest import MODEL_DIR, require_shared, run_is21

NAME = "yolox-nano-coco"


@pytest.fixture
def deploy(tmp_path: Path) -> tuple[Path, Path]:
    """A model folder and manifest of our own, as on a device."""
    require_shared()
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(MODEL_DIR / "yolox_nano.onnx", models / "yolox_nano.onnx")
    shutil.copyfile(REPO_MANIFEST, models / "manifest.toml")
    return models / "manifest.toml", models


def retrained(tmp_path: Path) -> Path:
    """Different bytes, same network: what a re-export of the same weights looks like."""
    model = onnx.load(MODEL_DIR / "yolox_nano.onnx")
    model.producer_version = "is21-test-reexport"
    path = tmp_path / "yolox_nano_v2.onnx"
    onnx.save(model, path)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(folder.iterdir())}


def test_install_then_rollback(deploy: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, models = deploy
    new = retrained(tmp_path)
    spec = install_model(manifest, models, new, NAME, sample_jpeg())
    assert spec.sha256 == sha256_of(new) and spec.file.startswith("yolox_nano-")
    current = load_manifest(manifest).detector[0]
    assert current.file == spec.file and current.previous is not None
    assert current.previous.file == "yolox_nano.onnx"
    assert (models / "yolox_nano.onnx").exists()  # the old file is the backup
    assert all(
        c.ok for c in verify_models(load_manifest(manifest), models, sample_jpeg(), {"onnx"})
    )
    back = rollback_model(manifest, models, NAME)
    assert back.file == "yolox_nano.onnx" and back.previous and back.previous.file == spec.file
    assert load_manifest(manifest).detector[0].sha256 == sha256_of(models / "yolox_nano.onnx")


def test_a_refused_install_of_the_rollback_target_keeps_it(
    deploy: tuple[Path, Path], tmp_path: Path
) -> None:
    """Installing the file ``previous`` names again, refused by its sample, must not
    delete that file: rollback needs it."""
    manifest, models = deploy
    new = retrained(tmp_path)
    spec = install_model(manifest, models, new, NAME, sample_jpeg())
    rollback_model(manifest, models, NAME)  # previous is now spec.file
    before = snapshot(models)
    with pytest.raises(ModelError, match="fails on the sample"):
        install_model(manifest, models, new, NAME, b"\xff\xd8\xff not a photo")
    assert snapshot(models) == before
    assert rollback_model(manifest, models, NAME).file == spec.file


def test_corrupt_file_is_refused_and_nothing_changes(
    deploy: tuple[Path, Path], tmp_path: Path
) -> None:
    manifest, models = deploy
    before = snapshot(models)
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes((MODEL_DIR / "yolox_nano.onnx").read_bytes()[:100_000])
    with pytest.raises(ModelError, match="onnxruntime cannot load"):
        install_model(manifest, models, bad, NAME, sample_jpeg())
    assert snapshot(models) == before  # no half-installed file, manifest untouched


def test_wrong_output_shape_is_refused(deploy: tuple[Path, Path], tmp_path: Path) -> None:
    from tests.unit.test_yolov8 import constant_yolov8_model

    manifest, models = deploy
    before = snapshot(models)
    other = tmp_path / "other.onnx"
    constant_yolov8_model(other)  # a valid ONNX file, but not a 416x416 YOLOX
    with pytest.raises(ModelError, match="fails on the sample"):
        install_model(manifest, models, other, NAME, sample_jpeg())
    assert snapshot(models) == before


def test_crash_before_the_manifest_commit_leaves_the_old_model(
    deploy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, models = deploy
    text = manifest.read_text()

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr("is21.ops.models.write_manifest", crash)
    with pytest.raises(KeyboardInterrupt):
        install_model(manifest, models, retrained(tmp_path), NAME, sample_jpeg())
    assert manifest.read_text() == text
    assert all(
        c.ok for c in verify_models(load_manifest(manifest), models, sample_jpeg(), {"onnx"})
    )


def test_crash_while_writing_the_manifest_leaves_a_whole_one(
    deploy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, models = deploy
    text = manifest.read_text()
    real_replace = os.replace

    def crash(src: str, dst: str) -> None:
        if str(dst) == str(manifest):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr("is21.workers.manifest.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        install_model(manifest, models, retrained(tmp_path), NAME, sample_jpeg())
    assert manifest.read_text() == text
    assert not [p for p in models.iterdir() if p.name.endswith(".tmp")]


def test_rollback_needs_a_previous_file(deploy: tuple[Path, Path]) -> None:
    manifest, models = deploy
    with pytest.raises(ModelError, match="nothing to roll back"):
        rollback_model(manifest, models, NAME)
    with pytest.raises(ModelError, match="no detector named"):
        rollback_model(manifest, models, "nope")


def test_cli_verify_names_each_bad_file(deploy: tuple[Path, Path]) -> None:
    manifest, models = deploy
    (models / "yolox_nano.onnx").write_bytes(b"garbage")
    out = run_is21(
        "models",
        "verify",
        env={
            "PATH": "/usr/bin:/bin",
            "IS21_MODEL_DIR": str(models),
            "IS21_MANIFEST": str(manifest),
        },
        timeout=60,
    )
    assert out.returncode == 1
    assert "BAD" in out.stdout and "yolox_nano.onnx" in out.stdout and "expected" in out.stdout


def test_cli_install_and_rollback(deploy: tuple[Path, Path], tmp_path: Path) -> None:
    manifest, models = deploy
    env = {"PATH": "/usr/bin:/bin", "IS21_MODEL_DIR": str(models), "IS21_MANIFEST": str(manifest)}

    def is21(*args: str) -> subprocess.CompletedProcess[str]:
        return run_is21("models", *args, env=env, timeout=120)

    out = is21("install", str(retrained(tmp_path)), "--name", NAME)
    assert out.returncode == 0, out.stderr
    assert "previous yolox_nano.onnx kept for rollback" in out.stdout
    out = is21("install", str(tmp_path / "missing.onnx"), "--name", NAME)
    assert out.returncode == 2 and "no such file" in out.stderr
    assert is21("rollback", NAME).returncode == 0
    assert "yolox_nano.onnx" in is21("list").stdout
