"""YOLOv8, in the two layouts the fleet meets.

- ``yolov8``: Ultralytics' ONNX export. One output ``[1, 4+nc, N]``: ``cx, cy, w, h`` in
  input pixels, then class scores already sigmoided. Input: RGB, centred letterbox padded
  with 114, scaled to 0..1.
- ``yolov8-rknn``: airockchip rknn_model_zoo's export for the NPU. Nine outputs, three
  per scale: a DFL box branch ``[1, 64, H, W]`` (4 sides x 16 bins), class scores
  ``[1, nc, H, W]`` (sigmoided) and their sum ``[1, 1, H, W]`` (a cheap pre-filter).
  Input: RGB uint8, centred letterbox padded with 0; normalisation is inside the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from is21.workers.formats import RawDetections
from is21.workers.formats.boxes import empty, finish
from is21.workers.image import Letterbox, Prepared

DFL_BINS = 16


class Yolov8Format:
    name = "yolov8"
    input_scale = 1.0 / 255.0

    def __init__(self, input_size: tuple[int, int], num_classes: int) -> None:
        self.height, self.width = input_size
        self.num_classes = num_classes

    def letterbox(self, height: int, width: int) -> Letterbox:
        return Letterbox(height, width, channels="RGB", align="center", pad_value=114)

    def decode(
        self, outputs: Sequence[npt.NDArray[np.float32]], prep: Prepared, conf: float, iou: float
    ) -> RawDetections:
        out = np.asarray(outputs[0])
        if out.ndim != 3 or out.shape[0] != 1 or out.shape[1] != 4 + self.num_classes:
            raise ValueError(
                f"yolov8 output shape {out.shape} is not [1, {4 + self.num_classes}, N]"
            )
        rows = out[0].T  # [N, 4 + nc]
        cls = rows[:, 4:]
        classes = cls.argmax(axis=1)
        scores = cls[np.arange(rows.shape[0]), classes]
        keep = scores > conf
        if not keep.any():
            return empty()
        c, s = rows[keep, 0:2], rows[keep, 2:4]
        boxes = np.concatenate([c - s / 2, c + s / 2], axis=1)
        return finish(boxes, scores[keep], classes[keep].astype(np.int64), prep, iou)


def dfl(box: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """[64, H, W] logits -> [4, H, W] distances (grid units): softmax-weighted bin index."""
    _, h, w = box.shape
    logits = box.reshape(4, DFL_BINS, h, w)
    logits = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    bins = np.arange(DFL_BINS, dtype=np.float32).reshape(1, DFL_BINS, 1, 1)
    dist: npt.NDArray[np.float32] = (weights * bins).sum(axis=1).astype(np.float32)
    return dist


class Yolov8RknnFormat:
    name = "yolov8-rknn"
    input_scale = 1.0  # the RKNN model normalises its uint8 input itself

    def __init__(self, input_size: tuple[int, int], num_classes: int) -> None:
        self.height, self.width = input_size
        self.num_classes = num_classes

    def letterbox(self, height: int, width: int) -> Letterbox:
        return Letterbox(height, width, channels="RGB", align="center", pad_value=0)

    def decode(
        self, outputs: Sequence[npt.NDArray[np.float32]], prep: Prepared, conf: float, iou: float
    ) -> RawDetections:
        if len(outputs) != 9:
            raise ValueError(
                f"yolov8-rknn expects 9 outputs (3 scales x box, class, sum), got {len(outputs)}"
            )
        all_boxes, all_scores, all_classes = [], [], []
        for level in range(3):
            box, cls, total = (np.asarray(outputs[3 * level + k])[0] for k in range(3))
            if box.shape[0] != 4 * DFL_BINS or cls.shape[0] != self.num_classes:
                raise ValueError(
                    f"yolov8-rknn scale {level}: box {box.shape}, class "
                    f"{cls.shape}; expected 64 and {self.num_classes} channels"
                )
            h, w = cls.shape[1:]
            candidates = total[0] >= conf  # max class score <= their sum
            if not candidates.any():
                continue
            gy, gx = np.nonzero(candidates)
            scores_all = cls[:, gy, gx]  # [nc, K]
            classes = scores_all.argmax(axis=0)
            scores = scores_all[classes, np.arange(classes.size)]
            keep = scores > conf
            if not keep.any():
                continue
            gy, gx, classes, scores = gy[keep], gx[keep], classes[keep], scores[keep]
            dist = dfl(box[:, gy, gx].reshape(4 * DFL_BINS, 1, -1))[:, 0, :]  # [4, K]
            sx, sy = self.width / w, self.height / h
            cx, cy = gx + 0.5, gy + 0.5
            all_boxes.append(
                np.stack(
                    [
                        (cx - dist[0]) * sx,
                        (cy - dist[1]) * sy,
                        (cx + dist[2]) * sx,
                        (cy + dist[3]) * sy,
                    ],
                    axis=1,
                )
            )
            all_scores.append(scores)
            all_classes.append(classes)
        if not all_boxes:
            return empty()
        return finish(
            np.concatenate(all_boxes),
            np.concatenate(all_scores).astype(np.float32),
            np.concatenate(all_classes).astype(np.int64),
            prep,
            iou,
        )
