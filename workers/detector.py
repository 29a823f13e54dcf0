"""A detector: one model file = a runtime (backend) + an output format + its labels."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from is21.schemas.results import Detection
from is21.schemas.settings import Settings
from is21.workers.backends import Backend, InferenceFailed, check_available, load_backend
from is21.workers.formats import OutputFormat, get_format
from is21.workers.image import Letterbox, Prepared, prepare
from is21.workers.manifest import (
    Manifest,
    ModelError,
    ModelSpec,
    load_manifest,
    manifest_path,
    verify,
)


@dataclass
class Timings:
    decode_ms: float = 0.0
    infer_ms: float = 0.0
    post_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.decode_ms + self.infer_ms + self.post_ms


@dataclass
class Detector:
    spec: ModelSpec
    backend: Backend
    fmt: OutputFormat
    letterbox: Letterbox = field(init=False)

    def __post_init__(self) -> None:
        self.letterbox = self.fmt.letterbox(*self.spec.input_size)

    @classmethod
    def load(
        cls, spec: ModelSpec, model_dir: Path, *, threads: int = 0, npu_core: str | None = None
    ) -> Detector:
        path = verify(spec, model_dir)
        fmt = get_format(spec.format, spec.input_size, len(spec.labels))
        try:
            backend = load_backend(
                spec.backend, path, input_scale=fmt.input_scale, threads=threads, npu_core=npu_core
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"model {spec.name}: {exc}") from exc
        return cls(spec, backend, fmt)

    def detect(
        self,
        jpeg: bytes,
        max_pixels: int,
        timings: Timings | None = None,
        prepared: dict[Letterbox, Prepared] | None = None,
    ) -> list[Detection]:
        """Raises ImageError for an undecodable frame; anything else is a detector fault.

        ``prepared`` is shared by the detectors of one frame, so models that take the same
        input layout (a person model and an animal model) decode the JPEG once.
        """
        t = timings if timings is not None else Timings()
        t0 = time.perf_counter()
        cache = prepared if prepared is not None else {}
        prep = cache.get(self.letterbox)
        if prep is None:
            prep = cache[self.letterbox] = prepare(jpeg, self.letterbox, max_pixels)
        t1 = time.perf_counter()
        try:
            outputs = self.backend.run(prep.pixels)
        except Exception as exc:
            raise InferenceFailed(str(exc)) from exc
        t2 = time.perf_counter()
        raw = self.fmt.decode(outputs, prep, self.spec.score_threshold, self.spec.nms_iou)
        labels, keep = self.spec.labels, self.spec.keep
        dets = [
            Detection(
                label=labels[int(c)],
                score=round(float(s), 4),
                box=(
                    round(float(b[0]), 1),
                    round(float(b[1]), 1),
                    round(float(b[2]), 1),
                    round(float(b[3]), 1),
                ),
                model=self.spec.name,
            )
            for b, s, c in zip(raw.boxes, raw.scores, raw.classes, strict=True)
            if keep is None or labels[int(c)] in keep
        ]
        t3 = time.perf_counter()
        t.decode_ms += (t1 - t0) * 1000
        t.infer_ms += (t2 - t1) * 1000
        t.post_ms += (t3 - t2) * 1000
        return dets


def load_detectors(
    manifest: Manifest,
    model_dir: Path,
    *,
    backend: str = "onnx",
    threads: int = 0,
    npu_core: str | None = None,
) -> list[Detector]:
    """Every detector the manifest enables for this backend (e.g. a person model and an
    animal model on the same frame)."""
    specs = [s for s in manifest.detector if s.enabled and s.backend == backend]
    if not specs:
        raise ModelError(f"the model manifest enables no detector for backend {backend!r}")
    return [Detector.load(s, model_dir, threads=threads, npu_core=npu_core) for s in specs]


def detectors_from_settings(settings: Settings, *, npu_core: str | None = None) -> list[Detector]:
    """The detectors a worker (or ``is21 detect``) runs under these settings."""
    check_available(settings.backend)
    return load_detectors(
        load_manifest(manifest_path(settings.manifest)),
        settings.model_dir,
        backend=settings.backend,
        threads=settings.intra_op_threads,
        npu_core=npu_core,
    )
