"""The NPU group: rknn-toolkit2 (its own venv) converts and simulates; `scripts/test-npu`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from is21.ops.npu.toolkit import DEFAULT_VENV, ToolkitError, toolkit_python


@pytest.fixture(scope="session")
def toolkit_venv() -> Path:
    venv = Path(os.environ.get("IS21_RKNN_TOOLKIT", DEFAULT_VENV))
    try:
        toolkit_python(venv)
    except ToolkitError as exc:
        pytest.fail(str(exc))
    return venv
