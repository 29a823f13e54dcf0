"""Reduced-scale JPEG decode gives the detector's answer of the plain path on 1080p frames."""

from __future__ import annotations

import numpy as np
import pytest

from ops.preprocess_bench import as_1080p, prepare_plain
from tests.conftest import MODEL_DIR, require_shared
from tests.samples import EXPECTED_EVENTS, photo
from workers.detector import Detector, load_detectors
from workers.image import prepare
from workers.manifest import REPO_MANIFEST, load_manifest


@pytest.fixture(scope="module")
def detector() -> Detector:
    require_shared()
    return load_detectors(load_manifest(REPO_MANIFEST), MODEL_DIR, threads=1)[0]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def answers(detector: Detector, frame: bytes) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for path in (prepare_plain, prepare):
        prep = path(frame, detector.letterbox, 10**9)
        raw = detector.fmt.decode(detector.backend.run(prep.pixels), prep, 0.3, 0.45)
        confident = raw.scores >= 0.5  # near the 0.3 threshold a box may come and go
        out.append((raw.boxes[confident], raw.classes[confident]))
    return out


def test_same_classes_and_boxes_on_1080p_frames(detector: Detector) -> None:
    """Per photo the same classes; over all boxes, IoU with the plain path's box."""
    ious, differing = [], []
    for name in sorted(EXPECTED_EVENTS):
        (plain_boxes, plain_classes), (boxes, classes) = answers(detector, as_1080p(photo(name)))
        if set(classes.tolist()) != set(plain_classes.tolist()):
            differing.append(name)
            continue
        for box, cls in zip(boxes, classes, strict=True):
            ious.append(
                max(
                    iou(box, p) for p, c in zip(plain_boxes, plain_classes, strict=True) if c == cls
                )
            )
    # Measured: classes differ on 1 photo of 16 (181118: the plain path's spurious 0.59
    # "sheep" among elephants); median IoU 0.997, 3 of 56 boxes under 0.98, all in herds
    # where neighbouring animals' boxes trade places. See docs/performance.md.
    assert len(differing) <= 1, differing
    assert np.median(ious) >= 0.98
    assert np.mean(np.array(ious) >= 0.98) >= 0.9, sorted(ious)[:5]


@pytest.mark.parametrize("name", sorted(EXPECTED_EVENTS))
def test_same_events_on_1080p_frames(detector: Detector, name: str) -> None:
    from schemas.events import DEFAULT_SCHEMA

    frame = as_1080p(photo(name))
    events = []
    for path in (prepare_plain, prepare):
        prep = path(frame, detector.letterbox, 10**9)
        raw = detector.fmt.decode(detector.backend.run(prep.pixels), prep, 0.3, 0.45)
        labels = [detector.spec.labels[int(c)] for c in raw.classes]
        from schemas.results import Detection

        dets = [
            Detection(label=lab, score=float(s), box=(0, 0, 1, 1))
            for lab, s in zip(labels, raw.scores, strict=True)
        ]
        events.append(DEFAULT_SCHEMA.evaluate(dets))
    assert events[0] == events[1]
