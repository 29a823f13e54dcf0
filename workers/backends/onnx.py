"""ONNX Runtime on the CPU: the backend for any host without an NPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort


class OnnxBackend:
    name = "onnx"

    def __init__(self, path: Path, *, input_scale: float = 1.0, threads: int = 0) -> None:
        self.path = path
        options = ort.SessionOptions()
        # One worker process per core is the fleet's unit of parallelism; letting each
        # session also spread over every core makes workers fight for the same cores.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise RuntimeError(f"onnxruntime cannot load {path}: {exc}") from exc
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = inp.shape
        if len(shape) != 4 or shape[1] != 3:
            raise RuntimeError(f"{path}: expected an NCHW input with 3 channels, got {shape}")
        self.input_scale = np.float32(input_scale)
        self._buffer = np.empty((1, 3, int(shape[2]), int(shape[3])), np.float32)

    def run(self, pixels: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.float32]]:
        # HWC uint8 -> NCHW float32 into a buffer reused across frames.
        np.copyto(self._buffer[0], pixels.transpose(2, 0, 1), casting="unsafe")
        if self.input_scale != 1.0:
            self._buffer *= self.input_scale
        outputs: list[npt.NDArray[np.float32]] = self.session.run(
            None, {self.input_name: self._buffer}
        )
        return outputs

    def close(self) -> None:
        del self.session
