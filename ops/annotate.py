"""A frame with what the fleet said of it drawn on: each detection's box, label and
score, and a caption strip along its bottom edge that names the result, the camera, the
time and the event, so that the picture explains itself when it is forwarded. The
picture keeps the frame's size.

What a picture shows must be true: the boxes are exactly the result's, scaled from the
frame size the result names to the JPEG's; a frame without its own result (none yet, or
superseded by a newer frame's) is drawn without boxes, and its caption says why, rather
than showing another frame's boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from is21.schemas.events import ANIMAL_LABELS
from is21.schemas.results import Result
from is21.workers.image import ImageError, open_jpeg

PERSON = (255, 32, 32)  # red: what the camera server cares about most
ANIMAL = (255, 160, 0)
OTHER = (64, 160, 255)
CAPTION_BG = (0, 0, 0)
CAPTION_FG = (255, 255, 255)
QUALITY = 85


@dataclass(frozen=True)
class Picture:
    """A frame and the result to draw on it: ``result`` None with ``why`` when the frame
    has no result of its own to show."""

    jpeg: bytes
    camera_id: str
    frame_id: str
    result: Result | None = None
    why: str = ""
    result_id: str = ""  # its entry in is21:results:{camera}, where it came from there


def colour(label: str) -> tuple[int, int, int]:
    if label == "person":
        return PERSON
    return ANIMAL if label in ANIMAL_LABELS else OTHER


def caption(picture: Picture) -> str:
    result = picture.result
    if result is None:
        return f"{picture.camera_id}  frame {picture.frame_id}  {picture.why}"
    when = result.captured_at or result.published_at
    at = when.strftime("%Y-%m-%d %H:%M:%S UTC") if when is not None else "time unknown"
    said = result.primary_event if result.status == "ok" else f"error: {result.error}"
    gated = f"  (gated: boxes of {result.gated_from})" if result.gated else ""
    named = f"  result {picture.result_id}" if picture.result_id else ""
    return f"{picture.camera_id}  frame {result.frame_id}{named}  {at}  {said}{gated}"


def annotate(picture: Picture, max_pixels: int, width: int | None = None) -> bytes:
    """The frame as a JPEG of its own size (``width``: at most that wide, a thumbnail)
    with the result's boxes and the caption strip. Raises ImageError for a frame that
    does not decode."""
    try:
        image = open_jpeg(picture.jpeg, max_pixels)
        if width is not None and image.width > width:
            size = (width, max(1, image.height * width // image.width))
            image.draft("RGB", size)  # libjpeg's DCT scaling: a thumbnail decodes fast
            frame = image.convert("RGB").resize(size, Image.Resampling.BILINEAR)
        else:
            frame = image.convert("RGB")
    except OSError as exc:  # a truncated JPEG fails here, not at open
        raise ImageError(f"the frame does not decode: {exc}") from exc
    width, height = frame.size
    font = ImageFont.load_default(size=max(10, height // 40))
    draw = ImageDraw.Draw(frame)
    result = picture.result
    if result is not None:
        sx = width / result.width if result.width else 1.0
        sy = height / result.height if result.height else 1.0
        line = max(3, round(min(width, height) / 200))  # 3 px: still red after the JPEG
        for det in result.detections:
            x1, y1, x2, y2 = det.box
            box = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
            draw.rectangle(box, outline=colour(det.label), width=line)
            text = f"{det.label} {det.score:.2f}"
            left, top, right, bottom = draw.textbbox((box[0], box[1]), text, font=font)
            label_top = max(box[1] - (bottom - top) - 2, 0)
            label = (box[0], label_top, box[0] + right - left + 4, label_top + bottom - top + 2)
            draw.rectangle(label, fill=colour(det.label))
            draw.text((box[0] + 2, label_top), text, fill=CAPTION_BG, font=font)
    text = caption(picture)
    top = height - (draw.textbbox((0, 0), text, font=font)[3] + 6)
    draw.rectangle((0, top, width, height), fill=CAPTION_BG)
    draw.text((4, top + 3), text, fill=CAPTION_FG, font=font)
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
