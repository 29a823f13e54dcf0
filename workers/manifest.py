"""The model manifest: which weights a worker runs, and proof they are the right ones.

Weights live outside the repository (``IS21_MODEL_DIR``); the manifest pins each file by
sha256 so that a truncated copy or a wrong file stops the worker at start with a message
naming the file, instead of producing plausible but wrong detections.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from pathlib import Path, PurePosixPath
from typing import Annotated

import tomli_w
from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from is21.schemas.codec import explain

REPO_MANIFEST = Path(__file__).resolve().parent.parent / "models" / "manifest.toml"


class ModelError(RuntimeError):
    """A model file or the manifest is missing, corrupt or inconsistent."""


def inside_model_dir(file: str) -> str:
    """A weight file is named relative to IS21_MODEL_DIR and stays inside it: a manifest
    naming '../' or an absolute path would have a worker read (and a sha mismatch print
    the hash of) any file on the host."""
    path = PurePosixPath(file)
    if not file or path.is_absolute() or ".." in path.parts or "\\" in file:
        raise ValueError(f"file must be a path inside IS21_MODEL_DIR, not {file[:80]!r}")
    return file


ModelFile = Annotated[str, AfterValidator(inside_model_dir)]


class PreviousModel(BaseModel):
    file: ModelFile
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Converted(BaseModel):
    """How ``is21 models convert`` built this file, so it can be built again and audited."""

    source_file: str
    source_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    toolkit: str
    target: str
    dtype: str
    algorithm: str
    float_layers: str | list[str] = Field(
        description="layers kept float16: 'proposal' (the toolkit's choice), or their names"
    )
    calibration_images: int


class ModelSpec(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    file: ModelFile
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    backend: str
    format: str
    input_size: tuple[int, int] = Field(description="height, width")
    labels: list[str] = Field(min_length=1)
    keep: list[str] | None = Field(
        default=None, description="labels this detector reports; None = all of them"
    )
    score_threshold: float = Field(default=0.3, gt=0.0, lt=1.0)
    nms_iou: float = Field(default=0.45, gt=0.0, le=1.0)
    enabled: bool = True
    previous: PreviousModel | None = Field(
        default=None, description="the file this one replaced, for is21 models rollback"
    )
    converted: Converted | None = None

    def path(self, model_dir: Path) -> Path:
        return model_dir / self.file


class Manifest(BaseModel):
    detector: list[ModelSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        names = [d.name for d in self.detector]
        if len(set(names)) != len(names):
            raise ValueError(f"detector names must be unique: {names}")
        for d in self.detector:
            unknown = sorted(set(d.keep or []) - set(d.labels))
            if unknown:
                raise ValueError(f"detector {d.name}: keep names unknown labels {unknown}")
        return self


def manifest_path(configured: Path | None) -> Path:
    return configured if configured is not None else REPO_MANIFEST


def load_manifest(path: Path) -> Manifest:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model manifest not found: {path} (set IS21_MANIFEST)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model manifest {path} is not valid TOML: {exc}") from exc
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ModelError(f"model manifest {path} is invalid: {explain(exc)}") from exc


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(spec: ModelSpec, model_dir: Path) -> Path:
    """Return the model's path once its bytes match the manifest, else raise ModelError."""
    path = spec.path(model_dir)
    if not path.is_file():
        raise ModelError(
            f"model {spec.name}: file {path} not found (expected sha256 {spec.sha256}; "
            f"set IS21_MODEL_DIR to the folder that holds {spec.file})"
        )
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise ModelError(
            f"model {spec.name}: file {path} has sha256 {actual}, expected {spec.sha256} "
            f"(corrupt, truncated or a different model)"
        )
    return path


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old file or the new, never half."""
    data = tomli_w.dumps(manifest.model_dump(mode="json", exclude_none=True))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
