"""The real detector on the real photos, without Redis: the events the README promises."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from is21.schemas.events import DEFAULT_SCHEMA
from is21.workers.detector import Detector, load_detectors
from is21.workers.manifest import REPO_MANIFEST, load_manifest
from tests.conftest import MODEL_DIR, ROOT, SAMPLES, require_shared
from tests.samples import EXPECTED_EVENTS, expected_primary, photo


@pytest.fixture(scope="module")
def detector() -> Detector:
    require_shared()
    return load_detectors(load_manifest(REPO_MANIFEST), MODEL_DIR, threads=1)[0]


def test_every_sample_photo_is_listed() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.jpg")) == sorted(EXPECTED_EVENTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_EVENTS))
def test_sample_gives_the_expected_events(detector: Detector, name: str) -> None:
    detections = detector.detect(photo(name), max_pixels=40_000_000)
    primary, events = DEFAULT_SCHEMA.evaluate(detections)
    assert set(events) == EXPECTED_EVENTS[name], [(d.label, d.score) for d in detections]
    assert primary == expected_primary(name)


def test_boxes_are_in_original_pixels(detector: Detector) -> None:
    # 181013 is 500x356: two men spanning nearly its height, a frisbee near (457, 104).
    dets = detector.detect(photo("COCO_val2014_000000181013.jpg"), 40_000_000)
    people = [d for d in dets if d.label == "person"]
    assert len(people) == 2
    for d in people:
        x1, y1, x2, y2 = d.box
        assert 0 <= x1 < x2 <= 500 and 0 <= y1 < y2 <= 356
        assert y2 - y1 > 280
    (frisbee,) = [d for d in dets if d.label == "frisbee"]
    x1, y1, x2, y2 = frisbee.box
    assert x1 < 457 < x2 and y1 < 104 < y2 and (x2 - x1) < 80


def test_is21_detect_json() -> None:
    require_shared()
    names = ["COCO_val2014_000000181586.jpg", "COCO_val2014_000000181386.jpg"]
    out = subprocess.run(
        [sys.executable, "-m", "is21.ops", "detect", "--json", *[str(SAMPLES / n) for n in names]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"IS21_MODEL_DIR": str(MODEL_DIR), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["primary_event"] for line in lines] == ["animal", "no_event"]
    assert lines[0]["file"].endswith(names[0])
    assert any(d["label"] == "cat" for d in lines[0]["detections"])
