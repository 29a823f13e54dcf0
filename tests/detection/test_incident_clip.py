"""Incidents on a real fixed-camera clip (issue 31): Debian's vtest.avi, a plaza with
pedestrians, through the real model and the workers' own tracking code
(``workers/incidents/follow.py``), sampled at the fleet's frame rates. The hand labels of
60 s of it are in ``lab/bench/vtest_labels.py``; ``is21 bench-incidents`` prints the
same figures."""

from __future__ import annotations

import pytest
from PIL import Image

from is21.lab.bench.incidents import (
    CLIP,
    CLIP_FPS,
    Detected,
    clip_replay,
    fragmentation,
    jpeg,
    known_truth,
    load_clip,
    median_background,
)
from is21.lab.bench.separable import look_margin, motion_margin
from is21.lab.bench.vtest_labels import LABELS, STRETCHES
from is21.schemas.events import DEFAULT_SCHEMA
from is21.workers.detector import Detector, load_detectors
from is21.workers.manifest import REPO_MANIFEST, load_manifest
from tests.conftest import MODEL_DIR, require_shared


@pytest.fixture(scope="module")
def detectors() -> list[Detector]:
    require_shared()
    return load_detectors(load_manifest(REPO_MANIFEST), MODEL_DIR, threads=1)


@pytest.fixture(scope="module")
def frames() -> list[Image.Image]:
    if not CLIP.is_file():
        pytest.fail(f"{CLIP} is missing: scripts/setup.sh installs Debian's opencv-doc")
    frames = load_clip()
    assert len(frames) == 795 and frames[0].size == (768, 576)
    return frames


@pytest.fixture(scope="module")
def clip(detectors: list[Detector], frames: list[Image.Image]) -> tuple[Detected, Detected]:
    """The clip's detections every 0.5 s, and the empty plaza's (its temporal median)."""
    detected = Detected.run(detectors, {i: f for i, f in enumerate(frames) if i % 5 == 0})
    return detected, Detected.run(detectors, {0: median_background(frames)})


@pytest.mark.parametrize("fps", [1.0, 0.5])
def test_people_in_view_all_along_are_one_incident_not_an_event_a_frame(
    clip: tuple[Detected, Detected], fps: float
) -> None:
    replay = clip_replay(clip[0], fps)
    minutes = 795 / CLIP_FPS / 60
    assert replay.types().count("new") == 1 and "end" not in replay.types()
    assert replay.events / minutes > 25  # today: an event for nearly every frame
    assert len(replay.messages) / minutes < 12  # a new, then an update at most a change


PEDESTRIANS = {"first 20 s": 9, "all 40 s": 13, "20 s before": 8}


@pytest.mark.parametrize(
    ("fps", "stretch", "bound"),
    [
        (1.0, "first 20 s", 1.2),
        (0.5, "first 20 s", 1.25),
        (1.0, "all 40 s", 1.35),
        (0.5, "all 40 s", 1.9),
        (1.0, "20 s before", 1.3),
        (0.5, "20 s before", 1.8),
    ],
)
def test_each_pedestrian_keeps_one_track_at_the_fleets_frame_rates(
    clip: tuple[Detected, Detected], fps: float, stretch: str, bound: float
) -> None:
    """The issue's bound is 1.2, met at 1 fps on the first 20 s (1.0), and not elsewhere:
    at 0.5 fps there one swap of two people passing each other half hidden (B and E) makes
    it 11 tracks for 9 pedestrians (1.22); on all 40 s, where up to nine people cross in
    black or behind each other, 1.31 at 1 fps and 1.85 at 0.5 fps; on the 20 s before
    (kept to tune on), 1.25 and 1.75. The other bounds here hold what was measured, so
    that a change to the tracker cannot make it worse unseen; issue 31 says why they are
    not met (docs/performance.md, "Incidents")."""
    found = fragmentation(clip_replay(clip[0], fps), clip[0], fps, STRETCHES[stretch])
    assert len(found["per_pedestrian"]) == PEDESTRIANS[stretch], found
    assert found["tracks_per_pedestrian"] <= bound, found


def test_an_empty_plaza_then_people_then_empty_again(clip: tuple[Detected, Detected]) -> None:
    detected, background = clip
    end_after = DEFAULT_SCHEMA.tracking.end_after
    truth = known_truth(detected, background.by_frame[0], end_after)
    assert truth["messages"][0] == "new" and truth["messages"][-1] == "end", truth
    assert truth["messages"].count("new") == 1 == truth["messages"].count("end")
    assert truth["new_after_first_person_s"] <= 2.0, truth
    assert truth["end_after_last_person_s"] <= end_after + 2, truth
    assert truth["quiet_before"] and truth["quiet_after"], truth


def test_motion_alone_tells_pedestrians_apart_at_1_fps_not_at_half(
    clip: tuple[Detected, Detected],
) -> None:
    """Why 0.5 fps fragments more: with each pedestrian's true past (the hand labels),
    another pedestrian stands nearer to where their pace said their feet would be in
    about one step of seven at 0.5 fps, and hardly ever at 1 fps."""
    at_1 = motion_margin(clip[0].by_frame, 10, STRETCHES["all 40 s"])
    at_half = motion_margin(clip[0].by_frame, 20, STRETCHES["all 40 s"])
    assert at_1["steps"] > 60 and at_half["steps"] > 70, (at_1, at_half)
    assert at_1["miss_median"] < 0.5 < at_half["miss_median"], (at_1, at_half)
    assert at_1["another_nearer"] <= 2 < 8 <= at_half["another_nearer"], (at_1, at_half)


def test_no_look_here_tells_a_crowd_apart_where_motion_cannot(
    clip: tuple[Detected, Detected], detectors: list[Detector], frames: list[Image.Image]
) -> None:
    """Why a tracker of this fleet's cues cannot bring 0.5 fps to 1.2 tracks a pedestrian:
    where another stands within the gate of a pedestrian's true place 2 s later, the look
    most like theirs is somebody else's in one case of five or more, whatever the cue
    (0.77-0.81 right for the best two). A colour histogram does best 1 s on; the
    detector's own features tell less the deeper they are (they are trained to say
    "person", the same for everyone)."""
    margin = look_margin(detectors[0], {i: jpeg(frames[i]) for i in LABELS}, clip[0].by_frame)
    assert list(margin) == [
        "colour histogram",
        "detector, stride 4",
        "detector, backbone at stride 8",
        "detector, head at stride 8",
    ]
    assert all(m["1 s"]["cases"] > 100 and m["2 s"]["cases"] > 130 for m in margin.values())
    assert all(m["2 s"]["rank1"] < 0.9 for m in margin.values()), margin
    rank = {cue: m["1 s"]["rank1"] for cue, m in margin.items()}
    assert rank["colour histogram"] > rank["detector, backbone at stride 8"], margin
    assert rank["detector, stride 4"] > rank["detector, head at stride 8"], margin
