from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from is21.workers.image import ImageError, Letterbox, prepare

BOX = Letterbox(416, 416, channels="BGR", align="top-left")


def jpeg(
    width: int, height: int, color: tuple[int, int, int] = (200, 10, 30), mode: str = "RGB"
) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    (img.convert(mode) if mode != "RGB" else img).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def test_letterbox_top_left_bgr() -> None:
    p = prepare(jpeg(832, 416), BOX, 10**8)
    assert p.pixels.shape == (416, 416, 3) and p.scale == 0.5
    assert (p.pad_x, p.pad_y, p.orig_width, p.orig_height) == (0, 0, 832, 416)
    b, g, r = p.pixels[100, 100].astype(int)
    assert abs(r - 200) < 8 and abs(g - 10) < 8 and abs(b - 30) < 8  # BGR order
    assert (p.pixels[300:, :] == 114).all()  # padding only below the 208-row image
    assert not (p.pixels[:208, :] == 114).all()


def test_center_letterbox_pads_both_sides() -> None:
    p = prepare(jpeg(416, 208), Letterbox(416, 416, "RGB", "center"), 10**8)
    assert (p.pad_x, p.pad_y) == (0, 104)
    assert (p.pixels[:104] == 114).all() and (p.pixels[-104:] == 114).all()


def test_large_frame_decodes_at_reduced_scale() -> None:
    p = prepare(jpeg(1920, 1080), BOX, 10**8)
    assert p.pixels.shape == (416, 416, 3)
    assert p.scale == pytest.approx(416 / 1920)


def test_cmyk_and_grey_jpegs_are_converted() -> None:
    for mode in ("CMYK", "L"):
        assert prepare(jpeg(64, 48, mode=mode), BOX, 10**8).pixels.shape == (416, 416, 3)


def noisy_jpeg(width: int = 640, height: int = 480) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def sof_with_size(data: bytes, width: int, height: int) -> bytes:
    i = data.index(b"\xff\xc0")
    return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9 :]


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "not an image Pillow knows \\(0 bytes\\)"),
        (b"\xff\xd8\xff" + bytes(range(256)) * 4, "not an image Pillow knows"),
        (noisy_jpeg()[:20_000], "failed to decode"),
    ],
)
def test_bad_bytes_are_image_errors(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError, match=reason) as refused:
        prepare(data, BOX, 10**8)
    assert "object at 0x" not in str(refused.value)  # no internal repr for an operator


def test_png_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    with pytest.raises(ImageError, match="expected a JPEG"):
        prepare(buf.getvalue(), BOX, 10**8)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = sof_with_size(jpeg(16, 16), 65535, 65535)
    with pytest.raises(ImageError, match="65535x65535"):
        prepare(bomb, BOX, 40_000_000)


def test_pixels_are_uint8() -> None:
    assert prepare(jpeg(10, 10), BOX, 10**8).pixels.dtype == np.uint8
