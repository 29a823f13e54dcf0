"""Non-maximum suppression shared by every output format."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou: float) -> list[int]:
    """Greedy NMS; returns kept indices, best score first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[overlap <= iou]
    return keep


def per_class_nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    classes: npt.NDArray[np.int64],
    iou: float,
) -> npt.NDArray[np.int64]:
    """NMS within each class: a person under a laptop survives the laptop's box."""
    kept: list[int] = []
    for cls in np.unique(classes):
        idx = np.flatnonzero(classes == cls)
        kept.extend(int(idx[k]) for k in nms(boxes[idx], scores[idx], iou))
    kept.sort(key=lambda k: -float(scores[k]))
    return np.asarray(kept, dtype=np.int64)
