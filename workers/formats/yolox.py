"""YOLOX (post-0.1.1rc0 export): BGR 0..255, top-left letterbox, anchor-free grid decode.

See ../shared/models/PROVENANCE.md for the conventions this mirrors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from is21.workers.formats import RawDetections
from is21.workers.formats.boxes import empty, finish
from is21.workers.image import Letterbox, Prepared

STRIDES = (8, 16, 32)


def make_grid(height: int, width: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per-row (gx, gy) and stride, in the export's level-then-row-major order."""
    grids, strides = [], []
    for s in STRIDES:
        gh, gw = height // s, width // s
        gy, gx = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
        strides.append(np.full((gh * gw, 1), s))
    return (np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32))


class YoloxFormat:
    name = "yolox"
    input_scale = 1.0

    def __init__(self, input_size: tuple[int, int], num_classes: int) -> None:
        self.height, self.width = input_size
        self.num_classes = num_classes
        self.grid, self.strides = make_grid(self.height, self.width)

    def letterbox(self, height: int, width: int) -> Letterbox:
        return Letterbox(height, width, channels="BGR", align="top-left")

    def decode(
        self, outputs: Sequence[npt.NDArray[np.float32]], prep: Prepared, conf: float, iou: float
    ) -> RawDetections:
        out = np.asarray(outputs[0])
        rows = out.reshape(-1, out.shape[-1])
        if rows.shape != (self.grid.shape[0], 5 + self.num_classes):
            raise ValueError(
                f"yolox output shape {out.shape} does not match "
                f"{self.grid.shape[0]} anchors x {5 + self.num_classes}"
            )
        cls_scores = rows[:, 5:] * rows[:, 4:5]  # objectness and classes are sigmoided
        classes = cls_scores.argmax(axis=1)
        scores = cls_scores[np.arange(rows.shape[0]), classes]
        keep = scores > conf
        if not keep.any():
            return empty()
        r, grid, stride = rows[keep], self.grid[keep], self.strides[keep]
        centre = (r[:, 0:2] + grid) * stride
        size = np.exp(r[:, 2:4]) * stride
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        return finish(boxes, scores[keep], classes[keep].astype(np.int64), prep, iou)
