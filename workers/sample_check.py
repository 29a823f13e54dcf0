"""The check every model passes before it serves: run once on a sample picture, with
outputs that make sense.

A model file can match its sha256 and load, and still be unable to serve: the wrong
export (an output shape the format cannot decode), the wrong format named in the
manifest, a runtime that loads but cannot run it. ``is21 models verify`` and ``install``,
a worker's start and a hot reload all run this check, so such a model is refused where
it is introduced instead of answering every frame with an error.
"""

from __future__ import annotations

import io
import math
from functools import cache

import numpy as np
from PIL import Image

from is21.workers.detector import Detector
from is21.workers.manifest import ModelError


@cache
def sample_jpeg() -> bytes:
    """A deterministic 640x480 photo-like gradient: enough to exercise decode and NMS."""
    y, x = np.mgrid[0:480, 0:640]
    rgb = np.stack([(x * 255 // 639), (y * 255 // 479), ((x + y) * 255 // 1118)], axis=-1)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def check_runs(detector: Detector, sample: bytes | None = None) -> str:
    """Run the detector once; raise ModelError unless every box lies in the picture."""
    spec = detector.spec
    sample = sample if sample is not None else sample_jpeg()
    try:
        width, height = Image.open(io.BytesIO(sample)).size
        dets = detector.detect(sample, 10**9)
    except Exception as exc:
        raise ModelError(
            f"model {spec.name}: {spec.file} fails on the sample picture: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for d in dets:
        x1, y1, x2, y2 = d.box
        if not all(math.isfinite(v) for v in d.box) or not (
            0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
        ):
            raise ModelError(f"model {spec.name}: {spec.file} gives an impossible box {d.box}")
    return f"loads and runs ({len(dets)} detections on the sample)"
