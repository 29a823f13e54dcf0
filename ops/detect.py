"""``is21 detect``: the detectors on image files, with no Redis: what a model sees."""

from __future__ import annotations

import json
from pathlib import Path

from is21.ops.annotate import Picture, annotate
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Detection, Result
from is21.schemas.settings import Settings
from is21.workers.detector import detectors_from_settings
from is21.workers.image import ImageError, open_jpeg


def detect_files(
    settings: Settings, images: list[str], *, as_json: bool, draw: Path | None = None
) -> int:
    """Every image through every detector; exit status 1 if any image could not be read.
    ``draw``: a folder to write each image to with its boxes drawn (``ops/annotate.py``)."""

    detectors = detectors_from_settings(settings)
    if draw is not None:
        draw.mkdir(parents=True, exist_ok=True)
    status = 0
    for image in images:
        try:
            jpeg = Path(image).read_bytes()
            dets = [d for det in detectors for d in det.detect(jpeg, settings.max_pixels)]
            if draw is not None:
                drawn(draw, image, jpeg, dets, settings.max_pixels)
        except (OSError, ImageError) as exc:
            print(
                json.dumps({"file": image, "error": str(exc)})
                if as_json
                else f"{image}: error: {exc}"
            )
            status = 1
            continue
        primary, events = DEFAULT_SCHEMA.evaluate(dets)
        if as_json:
            print(
                json.dumps(
                    {
                        "file": image,
                        "primary_event": primary,
                        "events": events,
                        "detections": [d.model_dump(mode="json") for d in dets],
                    }
                )
            )
        else:
            top = ", ".join(f"{d.label} {d.score:.2f}" for d in dets[:5]) or "-"
            print(f"{Path(image).name}: {primary:9s} {top}")
    return status


def drawn(folder: Path, image: str, jpeg: bytes, dets: list[Detection], max_pixels: int) -> None:
    """The image with its detections drawn, as ``is21 snapshot`` draws a camera's frame."""
    size = open_jpeg(jpeg, max_pixels).size
    primary, events = DEFAULT_SCHEMA.evaluate(dets)
    name = Path(image).name
    result = Result(
        camera_id=name,
        frame_id=name,
        seq=0,
        status="ok",
        primary_event=primary,
        events=events,
        detections=dets,
        width=size[0],
        height=size[1],
    )
    picture = Picture(jpeg, "is21 detect", name, result)
    (folder / Path(image).with_suffix(".jpg").name).write_bytes(annotate(picture, max_pixels))
