from __future__ import annotations

import json
from pathlib import Path

import pytest

from is21.workers.manifest import REPO_MANIFEST, ModelError, ModelSpec, load_manifest, verify
from tests.conftest import MODEL_DIR, require_shared, run_is21

EXPECTED_SHA = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14"


def spec() -> ModelSpec:
    return load_manifest(REPO_MANIFEST).detector[0]


def test_repo_manifest_pins_the_shared_model() -> None:
    s = spec()
    assert (s.file, s.sha256, s.backend, s.format) == (
        "yolox_nano.onnx",
        EXPECTED_SHA,
        "onnx",
        "yolox",
    )
    assert s.labels[0] == "person" and len(s.labels) == 80


def test_missing_model_names_file_and_sha(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=f"yolox_nano.onnx not found.*{EXPECTED_SHA}"):
        verify(spec(), tmp_path)


def test_truncated_model_names_expected_sha(tmp_path: Path) -> None:
    require_shared()
    (tmp_path / "yolox_nano.onnx").write_bytes((MODEL_DIR / "yolox_nano.onnx").read_bytes()[:1000])
    with pytest.raises(ModelError, match=f"expected {EXPECTED_SHA}"):
        verify(spec(), tmp_path)


def test_bad_manifest(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text("[[detector]]\nname = 'x'\n")
    with pytest.raises(ModelError, match="invalid"):
        load_manifest(tmp_path / "m.toml")
    (tmp_path / "n.toml").write_text("not = [toml")
    with pytest.raises(ModelError, match="not valid TOML"):
        load_manifest(tmp_path / "n.toml")
    with pytest.raises(ModelError, match="not found"):
        load_manifest(tmp_path / "absent.toml")


@pytest.mark.parametrize("content", [None, b"\x08\x01garbage"])
def test_worker_refuses_to_start_without_a_good_model(
    tmp_path: Path, content: bytes | None
) -> None:
    if content is not None:
        (tmp_path / "yolox_nano.onnx").write_bytes(content)
    out = run_is21(
        "worker",
        env={
            "IS21_MODEL_DIR": str(tmp_path),
            "PATH": "/usr/bin:/bin",
            "IS21_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        timeout=60,
    )
    assert out.returncode == 2
    assert "yolox_nano.onnx" in out.stderr and EXPECTED_SHA in out.stderr
    # Under systemd the journal gets a JSON line at ERROR saying why it did not start.
    line = json.loads(out.stderr.strip().splitlines()[-1])
    assert line["level"] == "ERROR" and "worker did not start" in line["message"]


@pytest.mark.parametrize("file", ["../../etc/passwd", "/etc/passwd", "sub/../../x.onnx", ""])
def test_a_weight_file_outside_the_model_folder_is_refused(tmp_path: Path, file: str) -> None:
    """Issue 28: a manifest naming '../' or an absolute path had the worker read any file
    and print its sha256 in the mismatch message."""
    text = REPO_MANIFEST.read_text().replace('file = "yolox_nano.onnx"', f"file = {file!r}")
    (tmp_path / "manifest.toml").write_text(text)
    with pytest.raises(ModelError, match="file must be a path inside IS21_MODEL_DIR") as refused:
        load_manifest(tmp_path / "manifest.toml")
    assert "root:" not in str(refused.value)  # nothing of the named file was read


def test_a_weight_file_in_a_subfolder_of_the_model_folder_is_fine(tmp_path: Path) -> None:
    text = REPO_MANIFEST.read_text().replace('file = "yolox_nano.onnx"', 'file = "v2/yolox.onnx"')
    (tmp_path / "manifest.toml").write_text(text)
    assert load_manifest(tmp_path / "manifest.toml").detector[0].file == "v2/yolox.onnx"
