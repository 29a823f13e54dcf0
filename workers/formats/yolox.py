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
        return self.decode_rows(rows, np.arange(rows.shape[0]), prep, conf, iou)

    def decode_rows(
        self,
        rows: npt.NDArray[np.float32],
        index: npt.NDArray[np.int64],
        prep: Prepared,
        conf: float,
        iou: float,
    ) -> RawDetections:
        """Rows of (tx, ty, tw, th, obj, classes...) at anchor ``index`` of the grid."""
        cls_scores = rows[:, 5:] * rows[:, 4:5]  # objectness and classes are sigmoided
        classes = cls_scores.argmax(axis=1)
        scores = cls_scores[np.arange(rows.shape[0]), classes]
        keep = scores > conf
        if not keep.any():
            return empty()
        r, grid, stride = rows[keep], self.grid[index[keep]], self.strides[index[keep]]
        centre = (r[:, 0:2] + grid) * stride
        size = np.exp(r[:, 2:4]) * stride
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        return finish(boxes, scores[keep], classes[keep].astype(np.int64), prep, iou)


class YoloxRknnFormat(YoloxFormat):
    """YOLOX cut for the NPU by ``is21 models convert`` (ops/npu/runner.py).

    Nine outputs, three per scale (stride 8 first): box offsets ``[1, 4, H, W]``,
    objectness ``[1, 1, H, W]`` and classes ``[1, nc, H, W]``, both sigmoided. Each is
    quantized on its own range; the values and the decode are YOLOX's.
    """

    name = "yolox-rknn"

    def decode(
        self, outputs: Sequence[npt.NDArray[np.float32]], prep: Prepared, conf: float, iou: float
    ) -> RawDetections:
        if len(outputs) != 3 * len(STRIDES):
            raise ValueError(
                f"yolox-rknn expects 9 outputs (3 scales x box, objectness, classes), "
                f"got {len(outputs)}"
            )
        rows, start = [], 0
        for level, stride in enumerate(STRIDES):
            gh, gw = self.height // stride, self.width // stride
            parts = [np.asarray(outputs[3 * level + k]) for k in range(3)]
            want = [(1, 4, gh, gw), (1, 1, gh, gw), (1, self.num_classes, gh, gw)]
            if [p.shape for p in parts] != want:
                raise ValueError(
                    f"yolox-rknn stride {stride}: outputs {[p.shape for p in parts]}, "
                    f"expected {want}"
                )
            # Objectness bounds every class score: cells below it are skipped unread.
            cells = np.flatnonzero(parts[1].reshape(-1) > conf)
            level_rows = np.concatenate([p[0].reshape(p.shape[1], -1)[:, cells] for p in parts])
            rows.append((level_rows.T, cells + start))
            start += gh * gw
        table = np.concatenate([r for r, _ in rows])
        index = np.concatenate([i for _, i in rows])
        return self.decode_rows(table, index, prep, conf, iou)
