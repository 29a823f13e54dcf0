"""The change gate (issue 32) on real photos: what a fixed camera sends when nothing
happens (sensor noise, a drift of light) must not open it; a person pasted in, a change
outside the masks, the whole picture switching (IR) must; and the rules no picture can
tell (hold, max_skip, a new model, no reference) run the detectors whatever it shows."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from is21.schemas.events import DEFAULT_SCHEMA, Gating
from is21.schemas.results import Detection, Result
from is21.workers.gate import GATE_ROWS, Reference, decide, look
from is21.workers.gate.pixel_diff import PixelDiffGate
from is21.workers.incidents.follow import follow
from tests.scenes import background, walker_at

GATE = PixelDiffGate()
MAX_PIXELS = 40_000_000
RNG = np.random.default_rng(32)


def jpeg(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=85)
    return out.getvalue()


def scene(gain: float = 1.0, noise: float = 4.0) -> bytes:
    """The empty promenade as a camera sends it: sensor noise, ``gain`` of light."""
    pixels = np.asarray(background(), dtype=np.float32) * gain
    return jpeg(pixels + RNG.normal(0, noise, pixels.shape))


def reference_of(frame: bytes, at: float = 0.0, hold: bool = False) -> Reference:
    person = Detection(label="person", score=0.9, box=(1.0, 2.0, 30.0, 80.0))
    return Reference(look(frame, MAX_PIXELS), "1-0", at, "m", [person], 1280, 480, hold)


def changed(frame: bytes, before: bytes, settings: Gating | None = None) -> str | None:
    return GATE.changed(look(frame, MAX_PIXELS), look(before, MAX_PIXELS), settings or Gating())


def test_the_picture_is_small_gray_and_keeps_the_frames_shape() -> None:
    picture = look(scene(), MAX_PIXELS)  # 1280x480: libjpeg's 1/8 is 160x60
    assert picture.dtype == np.uint8 and picture.shape == (60, 160)
    big = look(jpeg(np.zeros((1080, 1920, 3))), MAX_PIXELS)  # 1/8 is 135 rows: boxed to 72
    assert big.shape == (GATE_ROWS, 128)
    assert picture.nbytes < 20_000  # read with every claim, written with every run


def test_noise_and_a_slow_drift_of_light_are_no_change() -> None:
    before = scene()
    for gain in (1.0, 1.03, 1.08, 0.93):
        assert changed(scene(gain), before) is None


def test_a_person_walking_in_is_a_change() -> None:
    assert changed(walker_at(400), scene()) == "changed"
    assert changed(walker_at(460), walker_at(400)) == "changed"


def test_the_whole_picture_switching_is_a_change_of_the_picture() -> None:
    pixels = np.asarray(background(), dtype=np.float32)
    infrared = pixels.mean(axis=2, keepdims=True).repeat(3, axis=2) * 0.4 + 120
    flipped = jpeg(255 - pixels)  # the lights: every pixel changes
    assert changed(jpeg(infrared), scene()) is not None
    assert changed(flipped, scene()) == "picture"


def test_a_change_inside_a_mask_is_ignored_and_outside_it_is_not() -> None:
    person = walker_at(400)  # the photo pasted at x 400..1040 of 1280, y 22..458 of 480
    over = Gating(masks=[[(0.3, 0.0), (0.85, 0.0), (0.85, 1.0), (0.3, 1.0)]])
    beside = Gating(masks=[[(0.0, 0.0), (0.25, 0.0), (0.25, 1.0), (0.0, 1.0)]])
    assert changed(person, scene(), over) is None
    assert changed(person, scene(), beside) == "changed"


def test_sensitivity_decides_how_small_a_change_counts() -> None:
    pixels = np.asarray(background(), dtype=np.float32)
    faint = pixels.copy()
    faint[150:330, 500:620] += 14  # a faint shape: a shadow
    assert changed(jpeg(faint), jpeg(pixels), Gating(sensitivity=0.2)) is None
    assert changed(jpeg(faint), jpeg(pixels), Gating(sensitivity=0.9)) == "changed"


@pytest.mark.parametrize(
    ("reference", "at", "settings", "model", "why"),
    [
        (None, 5.0, Gating(), "m", "first"),
        ("ref", 5.0, Gating(enabled=False), "m", "off"),
        ("ref", 5.0, Gating(), "another model", "model"),
        ("held", 5.0, Gating(), "m", "hold"),
        ("ref", 10.5, Gating(max_skip=10), "m", "recheck"),
    ],
)
def test_what_no_picture_can_tell_runs_the_detectors(
    reference: str | None, at: float, settings: Gating, model: str, why: str
) -> None:
    quiet = scene()
    ref = {None: None, "ref": reference_of(quiet), "held": reference_of(quiet, hold=True)}
    decision = decide(GATE, scene(), ref[reference], at, settings, model, MAX_PIXELS)
    assert decision.run and decision.reason == why and decision.repeats is None
    # Every run but these takes the frame's picture as the next reference: while hold,
    # the gate does not look; switched off, it does not either.
    assert (decision.picture is None) == (why in ("hold", "off"))


def test_an_unchanged_frame_repeats_the_reference() -> None:
    ref = reference_of(scene())
    decision = decide(GATE, scene(), ref, 9.9, Gating(max_skip=10), "m", MAX_PIXELS)
    assert not decision.run and decision.reason == "unchanged"
    assert decision.repeats is ref and decision.ms > 0


def test_a_frame_that_does_not_decode_goes_to_the_detectors_to_fail_there() -> None:
    decision = decide(GATE, b"\xff\xd8 not a jpeg", None, 0.0, Gating(), "m", MAX_PIXELS)
    assert decision.run and decision.picture is None


@pytest.mark.parametrize(
    "stored",
    [b"", b"\x93garbage", b"\x81\xa1v\x02", b"\x81\xa1v\x01", b"\xc1"],
)
def test_a_broken_reference_is_no_reference(stored: bytes) -> None:
    assert Reference.decode(stored) is None


def test_a_reference_written_while_hold_has_no_picture_and_the_next_frame_runs() -> None:
    held = Reference.decode(Reference(None, "1-0", 0.0, "m", hold=True).encode())
    assert held is not None and held.picture is None and held.hold
    after = Reference.decode(Reference(None, "2-0", 1.0, "m").encode())
    decision = decide(GATE, scene(), after, 2.0, Gating(), "m", MAX_PIXELS)
    assert decision.run and decision.reason == "first" and decision.picture is not None


def test_a_reference_survives_its_record() -> None:
    ref = reference_of(scene(), at=12.5, hold=True)
    back = Reference.decode(ref.encode())
    assert back is not None and back.picture is not None and ref.picture is not None
    assert np.array_equal(back.picture, ref.picture)
    assert (back.frame_id, back.at, back.model, back.hold) == ("1-0", 12.5, "m", True)
    assert back.detections == ref.detections and (back.width, back.height) == (1280, 480)


def holds(xs: list[float], seconds_apart: float = 1.0) -> list[bool]:
    """``Followed.hold`` after each frame of one person at these x positions."""
    state, out = b"", []
    for i, x in enumerate(xs):
        person = Detection(label="person", score=0.9, box=(x, 100.0, x + 50, 220.0))
        result = Result(
            camera_id="cam",
            frame_id=f"{1_800_000_000_000 + int(i * seconds_apart * 1000)}-0",
            seq=i + 1,
            status="ok",
            detections=[person],
            width=1280,
            height=480,
        )
        followed = follow(state, result, DEFAULT_SCHEMA)
        assert followed is not None
        state = followed.state
        out.append(followed.hold)
    return out


def test_what_holds_the_gate_open_is_a_moving_object_not_a_still_one() -> None:
    # A poster (never moved) never holds it; a walker does once confirmed (2 hits), and
    # the incident it opened holds it after the walker stops, until the incident ends.
    assert holds([400.0] * 6) == [False] * 6
    walk = holds([100.0, 200.0, 300.0, 300.0, 300.0])
    assert walk[0] is False and all(walk[1:])
    stopped = holds([100.0, 200.0] + [200.0] * 40)  # stationary after 10 s; ends at 30 s
    assert stopped[20] is True and stopped[-1] is False
