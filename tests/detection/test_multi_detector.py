"""Several detectors on one frame: merged detections, each naming its model."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from is21.producer import FrameProducer
from is21.schemas.events import DEFAULT_SCHEMA
from is21.workers.detector import load_detectors
from is21.workers.image import Letterbox, Prepared
from is21.workers.manifest import REPO_MANIFEST, Manifest
from tests.conftest import MODEL_DIR, Fleet, require_shared
from tests.samples import photo

ANIMALS = ["bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"]


def two_detector_manifest(tmp_path: Path) -> Path:
    """The shared model twice: a 'person' detector and an 'animal' detector."""
    base = tomllib.loads(REPO_MANIFEST.read_text())["detector"][0]
    lines = []
    for name, keep in (("person", ["person"]), ("animal", ANIMALS)):
        lines += [
            "[[detector]]",
            f'name = "{name}"',
            f'file = "{base["file"]}"',
            f'sha256 = "{base["sha256"]}"',
            'backend = "onnx"',
            'format = "yolox"',
            "input_size = [416, 416]",
            f"labels = {base['labels']!r}",
            f"keep = {keep!r}",
            "",
        ]
    path = tmp_path / "manifest.toml"
    path.write_text("\n".join(lines).replace("'", '"'))
    return path


def test_detections_of_two_models_are_merged(tmp_path: Path) -> None:
    require_shared()
    manifest = Manifest.model_validate(tomllib.loads(two_detector_manifest(tmp_path).read_text()))
    detectors = load_detectors(manifest, MODEL_DIR, threads=1)
    prepared: dict[Letterbox, Prepared] = {}
    jpeg = photo("COCO_val2014_000000181118.jpg")  # elephants and people
    dets = [d for det in detectors for d in det.detect(jpeg, 10**8, prepared=prepared)]
    assert len(prepared) == 1  # same input layout: the JPEG was decoded once
    by_model = {m: {d.label for d in dets if d.model == m} for m in ("person", "animal")}
    assert by_model["person"] == {"person"}
    assert "elephant" in by_model["animal"] and "person" not in by_model["animal"]
    assert DEFAULT_SCHEMA.evaluate(dets) == ("human", ["human", "animal"])


def test_a_worker_runs_every_enabled_detector(
    tmp_path: Path, fleet_factory: Callable[..., Fleet], producer: FrameProducer
) -> None:
    fleet_factory(1, IS21_MANIFEST=str(two_detector_manifest(tmp_path)))
    result = producer.wait(
        producer.submit("herd", photo("COCO_val2014_000000181118.jpg")), timeout=30
    )
    assert result.status == "ok" and result.model == "person+animal"
    sha = tomllib.loads(REPO_MANIFEST.read_text())["detector"][0]["sha256"]
    assert result.model_sha256 == f"{sha}+{sha}"
    assert {d.model for d in result.detections} == {"person", "animal"}
    assert result.events == ["human", "animal"]


def test_manifest_refuses_duplicate_names_and_unknown_keep(tmp_path: Path) -> None:
    base = tomllib.loads(REPO_MANIFEST.read_text())["detector"][0]
    with pytest.raises(ValueError, match="unique"):
        Manifest.model_validate({"detector": [base, base]})
    with pytest.raises(ValueError, match="unknown labels"):
        Manifest.model_validate({"detector": [{**base, "keep": ["unicorn"]}]})
