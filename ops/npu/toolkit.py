"""rknn-toolkit2, driven from the fleet's venv: what to build, and its simulator as RKNNLite.

The toolkit lives in a venv of its own (``scripts/setup-rknn-toolkit``, torch included);
``runner.py`` is the only code that runs there. This module says what to build (a
``Conversion``), prepares the calibration tensors with the fleet's own letterbox, and
wraps the simulator in RKNNLite's interface, so that ``RknnBackend`` and the project's
decoders serve it exactly as they serve the board's NPU.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np
import numpy.typing as npt

from is21.workers.formats import get_format
from is21.workers.image import Letterbox, prepare

RUNNER = Path(__file__).resolve().parent / "runner.py"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = ROOT / ".venv-rknn"
SETUP = "scripts/setup-rknn-toolkit"
TOOLKIT = "rknn-toolkit2 2.5.0"
# The RK35xx chips whose NPU rknn-toolkit-lite2 (the board side) drives.
TARGETS = ("rk3588", "rk3576", "rk3568", "rk3566", "rk3562")
# Source format -> what the converted model outputs (the decoder the manifest names).
CONVERTED_FORMAT = {"yolox": "yolox-rknn", "yolov8-rknn": "yolov8-rknn"}
IMAGE_SUFFIXES = (".jpg", ".jpeg")


class ToolkitError(RuntimeError):
    """The toolkit is missing, refused the model, or its simulator failed."""


@dataclass(frozen=True)
class Conversion:
    """An ONNX file and how to build it for a chip: enough to build it again, exactly."""

    source: Path
    format: str
    target: str
    input_size: tuple[int, int]
    num_classes: int
    calibration: tuple[Path, ...]
    input_scale: float = 1.0  # what the ONNX source wants multiplied into 0..255 pixels
    float_layers: str | tuple[str, ...] | None = None
    dtype: str = "w8a8"  # the toolkit's int8; "float16": no quantization at all
    algorithm: str = "normal"

    @property
    def output_format(self) -> str:
        return CONVERTED_FORMAT[self.format]

    @property
    def letterbox(self) -> Letterbox:
        fmt = get_format(self.output_format, self.input_size, self.num_classes)
        return fmt.letterbox(*self.input_size)

    def job(self, workdir: Path, out: Path | None = None) -> Path:
        """The runner's job file, with the calibration images as the board's tensors."""
        lines = []
        for i, image in enumerate(self.calibration):
            prep = prepare(image.read_bytes(), self.letterbox, 10**9)
            path = workdir / f"calibration-{i:04d}.npy"
            np.save(path, prep.pixels.transpose(2, 0, 1)[np.newaxis])  # the toolkit wants NCHW
            lines.append(str(path))
        dataset = workdir / "dataset.txt"
        dataset.write_text("".join(f"{line}\n" for line in lines))
        job = {
            "onnx": str(self.source.resolve()),
            "format": self.format,
            "target": self.target,
            "dtype": "w8a8" if self.dtype == "float16" else self.dtype,
            "algorithm": self.algorithm,
            "std": round(1.0 / self.input_scale, 6),
            "quantize": self.dtype != "float16",
            "float_layers": (
                list(self.float_layers)
                if isinstance(self.float_layers, tuple)
                else self.float_layers
            ),
            "dataset": str(dataset),
            "out": str(out.resolve()) if out else None,
        }
        path = workdir / "job.json"
        path.write_text(json.dumps(job))
        return path


def toolkit_python(venv: Path | None) -> Path:
    venv = venv or Path(os.environ.get("IS21_RKNN_TOOLKIT", DEFAULT_VENV))
    python = venv / "bin" / "python"
    if not python.is_file():
        raise ToolkitError(
            f"the rknn-toolkit2 venv is missing ({venv}): create it with `{SETUP}` "
            f"(about 5.5 GB with torch; the fleet's own venv stays free of it)"
        )
    return python


def images_in(folder: Path) -> tuple[Path, ...]:
    if not folder.is_dir():
        raise ToolkitError(f"{folder}: not a folder of images")
    images = tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
    if not images:
        raise ToolkitError(f"{folder}: no JPEG images (*.jpg, *.jpeg) to calibrate or compare on")
    return images


def convert(conversion: Conversion, out: Path, venv: Path | None = None) -> Conversion:
    """Write the .rknn; return the conversion with the float16 layers named (a proposal's
    choice is data-dependent: naming it makes the build repeatable, and ten times faster)."""
    python = toolkit_python(venv)
    with tempfile.TemporaryDirectory(prefix="is21-convert-") as tmp:
        job = conversion.job(Path(tmp), out)
        done = subprocess.run(
            [str(python), str(RUNNER), "convert", str(job)], capture_output=True, text=True
        )
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ToolkitError(f"{TOOLKIT} could not convert {conversion.source}:\n{tail}")
    layers = json.loads(done.stdout)["float_layers"]
    return replace(conversion, float_layers=tuple(layers) if layers else None)


def _send(stream: IO[bytes], arrays: dict[str, npt.NDArray[Any]]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    data = buf.getvalue()
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> dict[str, npt.NDArray[Any]]:
    head = stream.read(8)
    if len(head) < 8:
        raise ToolkitError("the rknn-toolkit2 simulator exited")
    (size,) = struct.unpack(">Q", head)
    with np.load(io.BytesIO(stream.read(size)), allow_pickle=False) as blob:
        return {k: blob[k] for k in blob.files}


class Simulator:
    """The toolkit's simulator in a child process, built from ``conversion``'s source."""

    def __init__(self, conversion: Conversion, venv: Path | None = None) -> None:
        python = toolkit_python(venv)
        self._tmp = tempfile.TemporaryDirectory(prefix="is21-simulator-")
        self._log = (Path(self._tmp.name) / "toolkit.log").open("w+b")
        job = conversion.job(Path(self._tmp.name))
        self._proc = subprocess.Popen(
            [str(python), str(RUNNER), "serve", str(job)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        try:
            self._call(None)
        except ToolkitError:
            self.close()
            raise

    def _call(self, pixels: npt.NDArray[np.uint8] | None) -> dict[str, npt.NDArray[Any]]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            if pixels is not None:
                _send(self._proc.stdin, {"input": pixels})
            return _receive(self._proc.stdout)
        except (ToolkitError, BrokenPipeError) as exc:
            self._proc.wait()
            self._log.seek(0)
            tail = "\n".join(self._log.read().decode(errors="replace").splitlines()[-8:])
            raise ToolkitError(f"the {TOOLKIT} simulator failed:\n{tail}") from exc

    def infer(self, pixels: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.float32]]:
        reply = self._call(pixels)
        if "error" in reply:
            raise ToolkitError(str(reply["error"]))
        return [reply[f"out{i}"].astype(np.float32) for i in range(len(reply))]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._log.close()
        self._tmp.cleanup()

    def as_rknnlite(self) -> type[SimulatedRKNNLite]:
        """An RKNNLite class whose instances run on this simulator (for ``RknnBackend``)."""
        return type("SimulatedRKNNLite", (SimulatedRKNNLite,), {"simulator": self})


class SimulatedRKNNLite:
    """RKNNLite's calls, answered by the simulator: the backend cannot tell them apart."""

    NPU_CORE_AUTO, NPU_CORE_0, NPU_CORE_1, NPU_CORE_2, NPU_CORE_0_1_2 = 0, 1, 2, 4, 7
    simulator: ClassVar[Simulator]

    def __init__(self, verbose: bool = False) -> None:
        self.loaded: str | None = None

    def load_rknn(self, path: str) -> int:
        self.loaded = path  # the simulator built this model from its source instead
        return 0

    def init_runtime(self, core_mask: int = 0) -> int:
        return 0

    def inference(self, inputs: list[npt.NDArray[np.uint8]]) -> list[npt.NDArray[np.float32]]:
        return self.simulator.infer(inputs[0])

    def release(self) -> None:
        pass
