"""The split YOLOX head the NPU conversion produces decodes to the same boxes as the one
tensor the float model ends in: the real model's real outputs, regrouped as the cut
graph emits them (per scale: box, objectness, classes, each [1, C, H, W])."""

from __future__ import annotations

import numpy as np
import pytest

from is21.lab.bench.cpu_frame import split_head
from is21.workers.detector import Detector, load_detectors
from is21.workers.formats.yolox import YoloxRknnFormat
from is21.workers.image import prepare
from is21.workers.manifest import REPO_MANIFEST, load_manifest
from tests.conftest import MODEL_DIR, require_shared
from tests.samples import EXPECTED_EVENTS, photo


@pytest.fixture(scope="module")
def detector() -> Detector:
    require_shared()
    return load_detectors(load_manifest(REPO_MANIFEST), MODEL_DIR, threads=1)[0]


@pytest.mark.parametrize("name", sorted(EXPECTED_EVENTS))
def test_split_head_decodes_like_the_single_output(detector: Detector, name: str) -> None:
    prep = prepare(photo(name), detector.letterbox, 10**9)
    (out,) = detector.backend.run(prep.pixels)
    whole = detector.fmt.decode([out], prep, 0.3, 0.45)
    split = YoloxRknnFormat((416, 416), 80).decode(split_head(out), prep, 0.3, 0.45)
    np.testing.assert_array_equal(split.classes, whole.classes)
    np.testing.assert_allclose(split.boxes, whole.boxes, rtol=1e-6)
    np.testing.assert_allclose(split.scores, whole.scores, rtol=1e-6)


def test_a_wrong_layout_is_refused_with_the_shapes() -> None:
    fmt = YoloxRknnFormat((416, 416), 80)
    prep = prepare(photo(sorted(EXPECTED_EVENTS)[0]), fmt.letterbox(416, 416), 10**9)
    wrong = [np.zeros((1, 85, 52, 52), np.float32)] * 9
    with pytest.raises(ValueError, match="expected"):
        fmt.decode(wrong, prep, 0.3, 0.45)
    with pytest.raises(ValueError, match="9 outputs"):
        fmt.decode(wrong[:3], prep, 0.3, 0.45)
