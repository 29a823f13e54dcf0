"""Runtimes that execute a model file: one module per runtime, one small interface.

A backend takes letterboxed uint8 pixels (H, W, 3) and returns the model's raw output
tensors; turning those into boxes is the output format's job (``workers/formats``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt


class InferenceFailed(RuntimeError):
    """The runtime could not run the model on a frame (an NPU core, a driver): not the
    frame's fault, and not the output format's. Workers count these (core_health.py)."""


class Backend(Protocol):
    name: str

    def run(self, pixels: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.float32]]: ...

    def close(self) -> None: ...


def load_backend(
    name: str, path: Path, *, input_scale: float, threads: int, npu_core: str | None = None
) -> Backend:
    if name == "onnx":
        from is21.workers.backends.onnx import OnnxBackend

        return OnnxBackend(path, input_scale=input_scale, threads=threads)
    if name == "rknn":
        from is21.workers.backends.rknn import RknnBackend

        return RknnBackend(path, core=npu_core)
    raise ValueError(f"unknown backend {name!r} (known: onnx, rknn)")


def check_available(name: str) -> None:
    """Fail at start, with the reason, when this host cannot run the backend."""
    if name == "rknn":
        from is21.workers.backends.rknn import load_rknnlite

        load_rknnlite()
    elif name != "onnx":
        raise ValueError(f"unknown backend {name!r} (known: onnx, rknn)")
