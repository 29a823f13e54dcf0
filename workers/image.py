"""JPEG bytes to the letterboxed pixels a detector takes.

The decoder is asked for a reduced scale: libjpeg-turbo then skips most of the IDCT work
for a 1080p frame headed for a 416x416 input, which is the single largest CPU cost
besides inference. simplejpeg (TurboJPEG) does it ~13 % faster than Pillow's ``draft``,
with the same events on every sample (docs/performance.md, "What the CPU must do for
each NPU frame"); Pillow reads the header (format, size, the pixel limit) and decodes
what TurboJPEG cannot give as RGB (CMYK).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import simplejpeg
from PIL import Image, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = None  # the fleet enforces its own limit before decoding


class ImageError(ValueError):
    """The frame cannot be decoded into an image."""


@dataclass(frozen=True)
class Letterbox:
    """How the model wants its input laid out; a property of the model's export."""

    height: int
    width: int
    channels: Literal["RGB", "BGR"]
    align: Literal["top-left", "center"]
    pad_value: int = 114


@dataclass(frozen=True)
class Prepared:
    pixels: npt.NDArray[np.uint8]  # (height, width, 3) in the model's channel order
    scale: float  # model pixels per original pixel
    pad_x: int
    pad_y: int
    orig_width: int
    orig_height: int


def open_jpeg(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:  # its message names an internal BytesIO object
        raise ImageError(f"not an image Pillow knows ({len(data)} bytes)") from exc
    except Exception as exc:  # Pillow raises many types for garbage input
        raise ImageError(f"not a decodable image: {exc}") from exc
    if img.format != "JPEG":
        raise ImageError(f"expected a JPEG, got {img.format or 'unknown format'}")
    width, height = img.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise ImageError(f"refusing {width}x{height} JPEG: over the {max_pixels}-pixel limit")
    return img


def prepare(data: bytes, box: Letterbox, max_pixels: int) -> Prepared:
    img = open_jpeg(data, max_pixels)
    width, height = img.size
    scale = min(box.width / width, box.height / height)
    new_w, new_h = max(1, int(width * scale)), max(1, int(height * scale))
    try:
        pixels = decode_scaled(data, img, box.channels, new_w, new_h)
    except Exception as exc:  # truncated or corrupt entropy data surfaces here
        raise ImageError(f"JPEG {width}x{height} failed to decode: {exc}") from exc
    canvas = np.full((box.height, box.width, 3), box.pad_value, dtype=np.uint8)
    pad_x = (box.width - new_w) // 2 if box.align == "center" else 0
    pad_y = (box.height - new_h) // 2 if box.align == "center" else 0
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = pixels
    return Prepared(canvas, scale, pad_x, pad_y, width, height)


def decode_scaled(
    data: bytes, img: Image.Image, channels: Literal["RGB", "BGR"], new_w: int, new_h: int
) -> npt.NDArray[np.uint8]:
    """The JPEG at (new_w, new_h) in ``channels`` order.

    libjpeg scales in the IDCT to the smallest of 1/1, 1/2, 1/4, 1/8 that is still at
    least the target (1/4 for 1080p into 416); a small bilinear resize finishes. It moves
    boxes less than swapping the plain path's resize filter does
    (tests/detection/test_reduced_decode.py); decoding at 1/2 instead is closer to the
    plain path but costs 43 % more (CHANGELOG.md, Measured).
    """
    small: npt.NDArray[np.uint8]
    if img.mode in ("RGB", "L"):
        small = simplejpeg.decode_jpeg(
            data, channels.lower(), min_width=new_w, min_height=new_h, strict=True
        )
    else:  # CMYK and friends: Pillow converts them
        img.draft("RGB", (new_w, new_h))
        small = np.asarray(img.convert("RGB"))
        if channels == "BGR":
            small = small[..., ::-1]
    if small.shape[:2] != (new_h, new_w):
        small = np.asarray(Image.fromarray(small).resize((new_w, new_h), Image.Resampling.BILINEAR))
    return small
