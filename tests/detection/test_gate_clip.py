"""The change gate misses no one (issue 32): real frames of Debian's vtest.avi (the plaza
with pedestrians) between real background frames (its temporal median, with sensor
noise), sent to two cameras of a real fleet, one gated and one not. On every frame with
people the two say the same human event, and the gated one is no slower at the median;
on the quiet frames it skips the detectors. ``is21 bench-gate`` prints the figures."""

from __future__ import annotations

import statistics
from collections.abc import Callable

import pytest

from is21.lab.bench.gate import quiet
from is21.lab.bench.incidents import CLIP, CLIP_FPS, jpeg, load_clip, median_background
from is21.producer import FrameProducer
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Result
from tests.conftest import Fleet, require_shared

pytestmark = pytest.mark.integration


def latency_ms(result: Result) -> float:
    """Frame stored to result published: the wait to be claimed, then the worker's part."""
    assert result.claimed_at is not None and result.published_at is not None
    return result.queue_ms + (result.published_at - result.claimed_at).total_seconds() * 1000


def stored_s(result: Result) -> float:
    return int(result.frame_id.split("-")[0]) / 1000


def test_the_gated_fleet_says_human_on_every_frame_the_ungated_one_does(
    fleet_factory: Callable[..., Fleet], producer: FrameProducer
) -> None:
    require_shared()
    if not CLIP.is_file():
        pytest.fail(f"{CLIP} is missing: scripts/setup.sh installs Debian's opencv-doc")
    frames = load_clip()
    background = median_background(frames)
    people = [jpeg(frames[i]) for i in range(300, 700, CLIP_FPS)]  # 40 s at 1 fps
    sequence = [(f, False) for f in quiet(background, 12, 1, seed=1)]
    sequence += [(f, True) for f in people]
    sequence += [(f, False) for f in quiet(background, 60, 1, seed=2)]
    producer.push_schema(
        {
            **DEFAULT_SCHEMA.model_dump(),
            "version": "2026-12-06.3",
            # Frames come as fast as they are served, not at 1 fps: an incident ends 1 s
            # after the last person instead of 30, so the quiet after it is seen here.
            "cameras": {
                "plain": {"gate": {"enabled": False}, "tracking": {"end_after": 1.0}},
                "gated": {"tracking": {"end_after": 1.0}},
            },
        }
    )
    fleet_factory(1)
    served: dict[str, list[Result]] = {"gated": [], "plain": []}
    for frame, _ in sequence:
        for camera, results in served.items():  # one at a time: no wait in a queue
            results.append(producer.wait(producer.submit(camera, frame), timeout=30))
    with_people = [i for i, (_, person) in enumerate(sequence) if person]
    gated, plain = served["gated"], served["plain"]
    assert all("human" in plain[i].events for i in with_people)
    assert [gated[i].events for i in with_people] == [plain[i].events for i in with_people]
    assert not any(gated[i].gated for i in with_people)
    assert not any(r.gated for r in plain)
    # Quiet before the people (the detectors ran on the first frame and on the switch to
    # IR), and again once their incident has ended: the frame that ends it, the next one
    # (the gate did not look during the incident), the switch to IR.
    ended = stored_s(gated[with_people[-1]]) + 1.0  # end_after
    quiet_after = [r for r in gated[with_people[-1] + 1 :] if stored_s(r) > ended]
    assert sum(gated[i].gated for i in range(with_people[0])) == with_people[0] - 2
    assert len(quiet_after) >= 20 and sum(r.gated for r in quiet_after) >= len(quiet_after) - 3
    # No later at the median: while an incident is open the gate does not even look.
    gated_ms = statistics.median(latency_ms(gated[i]) for i in with_people)
    plain_ms = statistics.median(latency_ms(plain[i]) for i in with_people)
    assert gated_ms <= plain_ms * 1.1 + 1.0, (gated_ms, plain_ms)
