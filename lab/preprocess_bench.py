"""1080p camera frames into the model input: reduced-scale decode vs the plain path.

The plain path decodes every pixel of a 1920x1080 JPEG and then shrinks it; ``draft``
lets libjpeg decode at 1/2, 1/4 or 1/8 scale directly (DCT scaling), skipping most of the
work for a 416x416 input. Both are timed here side by side on the same frames.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from is21.workers.image import Letterbox, Prepared, open_jpeg, prepare


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


# The two allocator states, set through glibc's environment: every buffer over 128 KB
# mapped fresh from the kernel (page faults on first touch), or freed memory kept for
# reuse (up to 256 MB).
ALLOCATOR_STATES: dict[str, dict[str, str]] = {
    "fresh": {"MALLOC_MMAP_THRESHOLD_": str(128 << 10)},
    "recycled": {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)},
}


def _compare_child(frames: list[bytes], box: Letterbox, out: Any) -> None:
    out.put(compare(frames, box))


def compare_fresh(frames: list[bytes], box: Letterbox) -> dict[str, dict[str, float]]:
    """``compare`` in new processes, once per allocator state.

    The plain path's cost depends on the allocator more than on the decoder: when its
    full-size buffers (~6 MB a frame) are mapped fresh, every frame pays page faults
    (~30 ms in all); when the allocator recycles them, ~20 ms. Which state a process is
    in depends on its history (glibc raises its mmap threshold after frees), so the
    bench used to flip between the two from run to run. The reduced path's buffers are
    small and cost the same either way. Both states are measured, each pinned.
    """
    ctx = mp.get_context("spawn")
    report = {}
    for state, env in ALLOCATOR_STATES.items():
        out = ctx.Queue()
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)  # a spawned child takes the environment at start
        try:
            child = ctx.Process(target=_compare_child, args=(frames, box, out))
            child.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        report[state] = out.get(timeout=300)
        child.join()
    return report
