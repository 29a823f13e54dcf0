"""1080p camera frames into the model input: reduced-scale decode vs the plain path.

The plain path decodes every pixel of a 1920x1080 JPEG and then shrinks it; ``draft``
lets libjpeg decode at 1/2, 1/4 or 1/8 scale directly (DCT scaling), skipping most of the
work for a 416x416 input. Both are timed here side by side on the same frames.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from workers.image import Letterbox, Prepared, open_jpeg, prepare


def as_1080p(jpeg: bytes) -> bytes:
    """A sample photo re-encoded as a 1920x1080 camera frame (stretched, quality 90)."""
    img = (
        Image.open(io.BytesIO(jpeg)).convert("RGB").resize((1920, 1080), Image.Resampling.BILINEAR)
    )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def prepare_plain(data: bytes, box: Letterbox, max_pixels: int) -> Prepared:
    """The straightforward path: full-size decode, resize, paste into the canvas."""
    img = open_jpeg(data, max_pixels).convert("RGB")
    width, height = img.size
    scale = min(box.width / width, box.height / height)
    new_w, new_h = max(1, int(width * scale)), max(1, int(height * scale))
    pixels = np.asarray(img.resize((new_w, new_h), Image.Resampling.BILINEAR))
    if box.channels == "BGR":
        pixels = pixels[..., ::-1]
    canvas = np.full((box.height, box.width, 3), box.pad_value, dtype=np.uint8)
    canvas[:new_h, :new_w] = pixels
    return Prepared(canvas, scale, 0, 0, width, height)


def time_path(
    fn: Callable[[bytes, Letterbox, int], Prepared],
    frames: list[bytes],
    box: Letterbox,
    rounds: int = 5,
) -> float:
    """Median ms per frame over rounds."""
    per_round = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for f in frames:
            fn(f, box, 10**9)
        per_round.append((time.perf_counter() - t0) * 1000 / len(frames))
    return statistics.median(per_round)


def compare(frames: list[bytes], box: Letterbox, rounds: int = 5) -> dict[str, float]:
    """Interleaved timing of both paths; the ratio is reduced ÷ plain."""
    plain, reduced = [], []
    for _ in range(rounds):
        plain.append(time_path(prepare_plain, frames, box, 1))
        reduced.append(time_path(prepare, frames, box, 1))
    p, r = statistics.median(plain), statistics.median(reduced)
    return {"plain_ms": round(p, 2), "reduced_ms": round(r, 2), "ratio": round(r / p, 3)}
