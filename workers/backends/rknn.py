"""Rockchip NPU through rknn-toolkit-lite2 (``rknnlite.api.RKNNLite``).

One worker process owns one NPU core (``--npu-core K``). The runtime is created in the
process that uses it, after any fork, because the driver's context does not survive a
fork. Every return code and a ``None`` output are turned into errors that name the file:
the toolkit itself mostly prints and carries on.

Not run on an RK3588 in this repository's CI: the adapter is tested against a stand-in
with RKNNLite's call signatures (tests/unit/test_rknn_backend.py).
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

CORE_MASKS = {
    "auto": "NPU_CORE_AUTO",
    "0": "NPU_CORE_0",
    "1": "NPU_CORE_1",
    "2": "NPU_CORE_2",
    "all": "NPU_CORE_0_1_2",
}


class BackendUnavailable(RuntimeError):
    pass


def load_rknnlite() -> Callable[..., Any]:
    if platform.machine() != "aarch64":
        raise BackendUnavailable(
            f"the rknn backend runs only on aarch64 (an RK3588 NPU); this host is "
            f"{platform.machine()}: use --backend onnx"
        )
    try:
        from rknnlite.api import RKNNLite
    except ImportError as exc:
        raise BackendUnavailable(
            "rknn-toolkit-lite2 is not installed: pip install 'is21-fleet[rknn]'"
        ) from exc
    factory: Callable[..., Any] = RKNNLite
    return factory


def core_mask(api_class: Any, core: str | None) -> Any:
    key = "auto" if core is None else str(core)
    if key not in CORE_MASKS:
        raise ValueError(f"NPU core must be one of {', '.join(CORE_MASKS)}, got {core!r}")
    return getattr(api_class, CORE_MASKS[key])


class RknnBackend:
    name = "rknn"

    def __init__(
        self, path: Path, *, core: str | None = None, api_class: Callable[..., Any] | None = None
    ) -> None:
        cls = api_class if api_class is not None else load_rknnlite()
        mask = core_mask(cls, core)
        self.path, self.core = path, core
        self.api = cls(verbose=False)
        ret = self.api.load_rknn(str(path))
        if ret != 0:
            raise RuntimeError(f"RKNNLite.load_rknn({path}) failed with code {ret}")
        ret = self.api.init_runtime(core_mask=mask)
        if ret != 0:
            self.api.release()
            raise RuntimeError(
                f"RKNNLite.init_runtime(core_mask={CORE_MASKS.get(str(core or 'auto'))}) for "
                f"{path} failed with code {ret}"
            )

    def run(self, pixels: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.float32]]:
        # NHWC uint8 with a batch axis: the model's mean/std are applied on the NPU.
        batch = np.ascontiguousarray(pixels[np.newaxis], dtype=np.uint8)
        outputs = self.api.inference(inputs=[batch])
        if outputs is None:
            # What a core that answers "failed to submit" gives back (rknn-toolkit2 #294).
            raise RuntimeError(
                f"RKNNLite.inference on NPU core {self.core or 'auto'} returned no outputs "
                f"({self.path})"
            )
        return [np.asarray(o, dtype=np.float32) for o in outputs]

    def close(self) -> None:
        self.api.release()
