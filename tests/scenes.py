"""Frames with a known truth for the incident tests (issue 31): a still background, and
a real photo of a person moved across it, so that the real detector sees a person walk."""

from __future__ import annotations

import io

from PIL import Image

from tests.samples import photo_path

BACKGROUND = "COCO_val2014_000000181643.jpg"  # an empty promenade: no person, no animal
WALKER = "COCO_val2014_000000181296.jpg"  # one person (a rider), 640x436
SIZE = (1280, 480)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def background() -> Image.Image:
    return Image.open(photo_path(BACKGROUND)).convert("RGB").resize(SIZE)


def empty() -> bytes:
    return jpeg(background())


def walker_at(x: int) -> bytes:
    """The person's photo pasted at ``x`` on the background: the whole photo moves."""
    scene = background()
    scene.paste(Image.open(photo_path(WALKER)).convert("RGB"), (x, 22))
    return jpeg(scene)


def walk(frames: int, step: int = 60, start: int = 20) -> list[bytes]:
    return [walker_at(start + step * i) for i in range(frames)]
