"""The change gate: does this frame need the detectors, or does it show what the last
frame they ran on showed? A stage behind a small ABC, as Frigate keeps its motion
detection (``frigate/motion/``): ``pixel_diff.py`` is the first gate, and a better one
replaces it without touching the frame path.

A fixed camera at 1 fps sends the same scene most of the time, and on an RK3588 the NPU
and the JPEG decode are the capacity: a frame the gate skips costs a small gray decode
(libjpeg's DCT scaling: at 1/8 it computes each 8x8 block's mean, the blur a motion
detector wants anyway) and a comparison, not a full decode and an inference.

The reference is the small gray picture of the last frame the detectors ran on, with
what they found, kept in Redis beside the camera (``is21:gate:{cam}``): a camera moves
between workers, so, like its tracks, it is read with the claim and written with the
result, under the same holder check. It is a few KB (72 rows). A skipped frame's result
repeats the reference's detections, so the camera server sees the events it would have.

What no picture can tell is decided here, the same for every gate: the detectors run
while an incident is open or a confirmed track moves (``hold``), at least every
``max_skip`` seconds (a person standing still is seen again), after a model change, and
whenever there is no reference picture to compare with. While ``hold`` is set the gate
does not even look: the frames of an incident pay nothing for it, and the reference they
write has no picture, so the first frame after the incident looks and runs.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import simplejpeg
from PIL import Image

from is21.schemas import codec
from is21.schemas.events import Gating
from is21.schemas.results import Detection
from is21.workers.image import ImageError, open_jpeg

Picture = npt.NDArray[np.uint8]  # gray, at most GATE_ROWS rows
GATE_ROWS = 72  # a person the detector can find at 416 pixels is a blob of pixels here
# The decoder's scale is the smallest that still gives this many rows: 1/8 of a 480-row
# frame (60 rows) costs half of the 1/4 that 72 rows would need.
MIN_ROWS = GATE_ROWS // 2
VERSION = 1  # of the record; a record of another version is no reference


class Gate(ABC):
    @abstractmethod
    def changed(self, picture: Picture, reference: Picture, settings: Gating) -> str | None:
        """Why the frame's picture differs from the reference enough that the detectors
        must run (``changed``, ``picture`` when the whole picture did), or None."""


@dataclass
class Reference:
    """What ``is21:gate:{cam}`` keeps: the last frame the detectors ran on."""

    picture: Picture | None  # None: written while ``hold``, without a look
    frame_id: str
    at: float  # seconds of Redis's clock: when that frame was stored (its stream id)
    model: str  # which models found its detections: a new model looks again
    detections: list[Detection] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    hold: bool = False  # after it, an incident was open or a confirmed track moved

    def encode(self) -> bytes:
        rows, cols = (0, 0) if self.picture is None else self.picture.shape
        return codec.packb(
            {
                "v": VERSION,
                "picture": b"" if self.picture is None else self.picture.tobytes(),
                "rows": rows,
                "cols": cols,
                "frame_id": self.frame_id,
                "at": self.at,
                "model": self.model,
                "detections": [d.model_dump() for d in self.detections],
                "width": self.width,
                "height": self.height,
                "hold": self.hold,
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> Reference | None:
        """The stored reference; None for none, another version's, or one a foreign
        client broke: the detectors then run and write a good one."""
        if not data:
            return None
        try:
            raw: dict[str, Any] = codec.unpackb(data)
            if raw["v"] != VERSION:
                return None
            shape = (raw["rows"], raw["cols"])
            picture = np.frombuffer(raw["picture"], np.uint8).reshape(shape) if shape[0] else None
            return cls(
                picture,
                str(raw["frame_id"]),
                float(raw["at"]),
                str(raw["model"]),
                [Detection.model_validate(d) for d in raw["detections"]],
                raw["width"],
                raw["height"],
                bool(raw["hold"]),
            )
        except (codec.CodecError, KeyError, TypeError, ValueError):  # pydantic's too
            return None


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str  # why: unchanged (skipped), off, first, model, hold, recheck, changed, picture
    picture: Picture | None = None  # this frame's, if the gate looked: the new reference
    reference: Reference | None = None  # what a skipped frame repeats
    ms: float = 0.0  # the gate's own time; 0 when it did not look

    @property
    def repeats(self) -> Reference | None:
        """The reference whose detections a skipped frame's result repeats."""
        return None if self.run else self.reference


@dataclass(frozen=True)
class Looked:
    """What the publish writes of the gate beside the frame's result."""

    reference: bytes = b""  # the new reference, when the detectors ran ('' = unchanged)
    ms: float | None = None  # the gate's time, for its histogram; None: it did not look


def look(jpeg: bytes, max_pixels: int) -> Picture:
    """The frame as a small gray picture: the JPEG decoded at the smallest DCT scale that
    still gives ``MIN_ROWS`` rows, boxed down to ``GATE_ROWS`` if it has more."""
    img = open_jpeg(jpeg, max_pixels)  # the pixel limit and the format, as for detection
    gray: Picture
    try:
        if img.mode in ("RGB", "L"):
            gray = simplejpeg.decode_jpeg(jpeg, "GRAY", min_height=MIN_ROWS, strict=True)[..., 0]
        else:  # CMYK and friends: Pillow converts them
            img.draft("L", (1, MIN_ROWS))
            gray = np.asarray(img.convert("L"))
    except Exception as exc:  # truncated or corrupt entropy data surfaces here
        raise ImageError(f"JPEG failed to decode: {exc}") from exc
    rows, cols = gray.shape
    if rows > GATE_ROWS:
        size = (max(1, round(cols * GATE_ROWS / rows)), GATE_ROWS)
        gray = np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX))
    return gray


def decide(
    gate: Gate,
    jpeg: bytes,
    reference: Reference | None,
    at: float,
    settings: Gating,
    model: str,
    max_pixels: int,
) -> Decision:
    """Run the detectors on this frame (taken at ``at``, Redis's clock), or repeat the
    reference's detections. A frame that does not decode runs: the detectors meet the
    same error and the result says it."""
    if not settings.enabled:
        return Decision(True, "off")
    if reference is not None and reference.hold:
        return Decision(True, "hold")  # whatever the picture shows: no need to look
    started = time.perf_counter()
    try:
        picture = look(jpeg, max_pixels)
    except ImageError:
        return Decision(True, "first")

    def run(reason: str) -> Decision:
        return Decision(True, reason, picture, ms=(time.perf_counter() - started) * 1000)

    if reference is None or reference.picture is None or reference.picture.shape != picture.shape:
        return run("first")
    if reference.model != model:
        return run("model")
    if at - reference.at > settings.max_skip:
        return run("recheck")
    why = gate.changed(picture, reference.picture, settings)
    if why is not None:
        return run(why)
    ms = (time.perf_counter() - started) * 1000
    return Decision(False, "unchanged", picture, reference, ms)
