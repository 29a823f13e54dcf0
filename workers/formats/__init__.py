"""Output formats: how a model family lays out its input and encodes its boxes.

A format knows nothing of the runtime that executes the model (onnx, rknn): the same
YOLOX decoder serves an ONNX file on x86 and an RKNN file on the NPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from is21.workers.image import Letterbox, Prepared


class RawDetections:
    """Boxes in original-image pixels with class ids and scores, after NMS."""

    def __init__(
        self,
        boxes: npt.NDArray[np.float32],
        scores: npt.NDArray[np.float32],
        classes: npt.NDArray[np.int64],
    ) -> None:
        self.boxes, self.scores, self.classes = boxes, scores, classes

    def __len__(self) -> int:
        return int(self.scores.shape[0])


class OutputFormat(Protocol):
    name: str
    input_scale: float  # multiply pixels by this before an un-normalised runtime sees them

    def letterbox(self, height: int, width: int) -> Letterbox: ...

    def decode(
        self, outputs: Sequence[npt.NDArray[np.float32]], prep: Prepared, conf: float, iou: float
    ) -> RawDetections: ...


def get_format(name: str, input_size: tuple[int, int], num_classes: int) -> OutputFormat:
    from is21.workers.formats.yolov8 import Yolov8Format, Yolov8RknnFormat
    from is21.workers.formats.yolox import YoloxFormat, YoloxRknnFormat

    formats: dict[str, type[OutputFormat]] = {
        "yolox": YoloxFormat,
        "yolox-rknn": YoloxRknnFormat,
        "yolov8": Yolov8Format,
        "yolov8-rknn": Yolov8RknnFormat,
    }
    if name not in formats:
        raise ValueError(f"unknown output format {name!r} (known: {', '.join(formats)})")
    return formats[name](input_size, num_classes)  # type: ignore[call-arg]
