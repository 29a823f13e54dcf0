"""The RKNN adapter against a stand-in with RKNNLite's call signatures.

Not an RK3588 test: it checks what the adapter sends (layout, dtype, core mask), what it
does with every failure code, and that it releases the runtime.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from is21.workers.backends.rknn import BackendUnavailable, RknnBackend, load_rknnlite
from tests.conftest import MODEL_DIR, run_is21


class FakeRKNNLite:
    NPU_CORE_AUTO, NPU_CORE_0, NPU_CORE_1, NPU_CORE_2, NPU_CORE_0_1_2 = 0, 1, 2, 4, 7
    load_code = 0
    init_code = 0
    outputs: ClassVar[list[np.ndarray] | None] = [np.ones((1, 2, 3), np.float16)]
    instances: ClassVar[list[FakeRKNNLite]] = []

    def __init__(self, verbose: bool = True) -> None:
        self.calls: list[tuple[str, Any]] = [("new", verbose)]
        type(self).instances.append(self)

    def load_rknn(self, path: str) -> int:
        self.calls.append(("load_rknn", path))
        return self.load_code

    def init_runtime(self, core_mask: int = 0) -> int:
        self.calls.append(("init_runtime", core_mask))
        return self.init_code

    def inference(self, inputs: list[np.ndarray]) -> list[np.ndarray] | None:
        self.calls.append(("inference", inputs))
        return self.outputs

    def release(self) -> None:
        self.calls.append(("release", None))


def fake(**attrs: Any) -> type[FakeRKNNLite]:
    return type("Fake", (FakeRKNNLite,), {"instances": [], **attrs})


@pytest.mark.parametrize(
    "core,mask", [("0", 1), ("1", 2), ("2", 4), ("all", 7), ("auto", 0), (None, 0)]
)
def test_core_mask_and_input_layout(core: str | None, mask: int) -> None:
    api = fake()
    backend = RknnBackend(Path("/m/person.rknn"), core=core, api_class=api)
    pixels = np.full((640, 640, 3), 7, np.uint8)
    (out,) = backend.run(pixels)
    (inst,) = api.instances
    assert inst.calls[:3] == [
        ("new", False),
        ("load_rknn", "/m/person.rknn"),
        ("init_runtime", mask),
    ]
    (sent,) = inst.calls[3][1]
    assert sent.shape == (1, 640, 640, 3) and sent.dtype == np.uint8  # NHWC uint8
    assert sent.flags["C_CONTIGUOUS"]
    assert out.dtype == np.float32 and out.shape == (1, 2, 3)
    backend.close()
    assert inst.calls[-1] == ("release", None)


def test_bad_core_is_refused() -> None:
    with pytest.raises(ValueError, match="NPU core must be one of"):
        RknnBackend(Path("m.rknn"), core="3", api_class=fake())


def test_load_failure_names_the_file() -> None:
    with pytest.raises(RuntimeError, match=r"load_rknn\(m.rknn\) failed with code -1"):
        RknnBackend(Path("m.rknn"), core="0", api_class=fake(load_code=-1))


def test_init_failure_releases_and_names_the_core() -> None:
    api = fake(init_code=-3)
    with pytest.raises(RuntimeError, match=r"NPU_CORE_1.*code -3"):
        RknnBackend(Path("m.rknn"), core="1", api_class=api)
    assert api.instances[0].calls[-1] == ("release", None)


def test_none_output_is_an_error() -> None:
    backend = RknnBackend(Path("m.rknn"), core="0", api_class=fake(outputs=None))
    with pytest.raises(RuntimeError, match="returned no outputs"):
        backend.run(np.zeros((8, 8, 3), np.uint8))


@pytest.mark.skipif(platform.machine() == "aarch64", reason="checks a non-aarch64 host")
def test_rknn_refused_off_aarch64() -> None:
    with pytest.raises(BackendUnavailable, match="only on aarch64"):
        load_rknnlite()
    out = run_is21(
        "worker",
        "--backend",
        "rknn",
        env={
            "PATH": "/usr/bin:/bin",
            "IS21_MODEL_DIR": str(MODEL_DIR),
            "IS21_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        timeout=60,
    )
    assert out.returncode == 2 and "only on aarch64" in out.stderr
