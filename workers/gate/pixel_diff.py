"""Frigate's motion detector, reduced to what a gate needs (``frigate/motion/
improved_motion.py``): the absolute difference of two small gray pictures, blurred,
thresholded, and a change only where a connected blob of changed pixels is large enough.

What a fixed camera sends when nothing happens, and why each does not open the gate:

- sensor noise: the 1/8 DCT decode already averages 8x8 blocks, and a 3x3 blur of the
  difference averages what is left, so single pixels never reach the threshold;
- a slow drift of light (clouds, dusk): the frame is scaled to the reference's mean
  brightness before the difference; the reference is at most ``max_skip`` old anyway;
- a masked region (a tree, a clock overlay): its pixels are not counted.

When most of the picture changes at once (lights switched, the camera's IR mode), Frigate
recalibrates; here the detectors run and the frame becomes the new reference.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw
from scipy import ndimage

from is21.schemas.events import Gating, Point
from is21.workers.gate import Gate, Picture

MIN_BLOB = 4  # pixels of the 72-row picture: a walker 100 px tall in 576 rows is ~50
PICTURE = 0.8  # more than this share of the unmasked picture changed: the whole picture


def threshold(sensitivity: float) -> float:
    """Gray levels a blurred pixel must change by: 16 at the default sensitivity 0.5."""
    return max(32.0 * (1.0 - sensitivity), 2.0)


@lru_cache(maxsize=64)
def mask(masks: tuple[tuple[Point, ...], ...], shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """The pixels of a picture of ``shape`` that the masks cover (polygons in fractions
    of the frame), drawn once per camera's masks and picture size."""
    rows, cols = shape
    canvas = Image.new("1", (cols, rows), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon in masks:
        draw.polygon([(x * cols, y * rows) for x, y in polygon], fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)


class PixelDiffGate(Gate):
    def changed(self, picture: Picture, reference: Picture, settings: Gating) -> str | None:
        now = picture.astype(np.float32)
        before = reference.astype(np.float32)
        now *= before.mean() / max(float(now.mean()), 1.0)  # a drift of light is no change
        diff = ndimage.uniform_filter(np.abs(now - before), 3)
        changed = diff > threshold(settings.sensitivity)
        seen = np.ones(changed.shape, dtype=bool)
        if settings.masks:
            seen = ~mask(tuple(tuple(p) for p in settings.masks), changed.shape)
            changed &= seen
        count = int(changed.sum())
        if count == 0:
            return None
        if count > PICTURE * int(seen.sum()):
            return "picture"
        blobs, n = ndimage.label(changed)
        largest = int(np.bincount(blobs.ravel())[1:].max()) if n else 0
        return "changed" if largest >= MIN_BLOB else None
