"""``is21 detect``: the detectors on image files, with no Redis: what a model sees."""

from __future__ import annotations

import json
from pathlib import Path

from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.settings import Settings
from is21.workers.detector import detectors_from_settings
from is21.workers.image import ImageError


def detect_files(settings: Settings, images: list[str], *, as_json: bool) -> int:
    """Every image through every detector; exit status 1 if any image could not be read."""

    detectors = detectors_from_settings(settings)
    status = 0
    for image in images:
        try:
            dets = [
                d
                for det in detectors
                for d in det.detect(Path(image).read_bytes(), settings.max_pixels)
            ]
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
