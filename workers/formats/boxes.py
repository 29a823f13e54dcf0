"""Shared last steps of every format: back to original pixels, clip, per-class NMS."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from is21.workers.formats import RawDetections
from is21.workers.formats.nms import per_class_nms
from is21.workers.image import Prepared


def empty() -> RawDetections:
    return RawDetections(
        np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    )


def finish(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    prep: Prepared,
    iou: float,
) -> RawDetections:
    """Boxes are x1, y1, x2, y2 in model-input pixels."""
    boxes = boxes.astype(np.float32, copy=True)
    boxes -= np.array([prep.pad_x, prep.pad_y, prep.pad_x, prep.pad_y], np.float32)
    boxes /= prep.scale
    np.clip(boxes, 0, [prep.orig_width, prep.orig_height] * 2, out=boxes)
    kept = per_class_nms(boxes, scores, classes, iou)
    return RawDetections(boxes[kept], scores[kept].astype(np.float32), classes[kept])
