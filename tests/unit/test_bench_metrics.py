"""The bench's starvation checks on hand-made service orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from is21.lab.bench.alone import AloneRun, ceiling_at
from is21.lab.bench.fairness import (
    gaps_over_bound,
    ideal_wait_ratios,
    max_gap_ratio,
    max_turns_ratio,
)
from is21.schemas.results import Result

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def service(i: int, cam: str, seq: int, at: float, took: float, worker: str = "") -> Result:
    """Frame ``i`` of the run, claimed at ``at`` s and published ``took`` s later; the
    camera's next frame is already waiting (queued 1 s) when it is published."""
    return Result(
        camera_id=cam,
        frame_id=f"{i}-0",
        seq=seq,
        status="ok",
        queue_ms=1000.0,
        processing_ms=took * 1000,
        worker=worker,
        claimed_at=T0 + timedelta(seconds=at),
        published_at=T0 + timedelta(seconds=at + took),
    )


def served(order: str, *, slow: int | None = None) -> list[Result]:
    """One worker serving cameras in ``order``, 10 ms a frame (100 ms for frame ``slow``)."""
    results, t, seq = [], 0.0, dict.fromkeys(order, 0)
    for i, cam in enumerate(order):
        seq[cam] += 1
        took = 0.1 if i == slow else 0.01
        results.append(service(i, cam, seq[cam], t, took))
        t += took
    return results


def test_round_robin_is_fair_in_turns_and_in_time() -> None:
    fair = served("abc" * 20)
    # Two other services between two of a camera; the bound is 3 x 1.2 = 3.6 turns.
    assert max_turns_ratio(fair, 3, 1) == round(2 / 3.6, 3)
    assert max_gap_ratio(fair, 3, 1) == round(3 / 3.6, 3)


def test_a_camera_passed_over_starves_in_turns() -> None:
    unfair = served("abc" * 5 + "ab" * 5 + "abc" * 5)
    assert max_turns_ratio(unfair, 3, 1) == round(12 / 3.6, 3)


def test_a_stall_lengthens_time_but_not_turns() -> None:
    stalled = served("abc" * 20, slow=30)  # one frame takes 10x the others
    assert max_turns_ratio(stalled, 3, 1) == round(2 / 3.6, 3)
    assert max_gap_ratio(stalled, 3, 1) > 1  # in seconds the camera waited too long


def test_waits_too_long_in_seconds_are_traced_to_the_stalled_frame() -> None:
    stalled = served("abc" * 20, slow=30)
    # 57 waits; the slow frame's own and the two spanning it cross the bound (3 x 1.2
    # x 10 ms), each spanning the stall, which no other wait does.
    assert gaps_over_bound(stalled, 3, 1) == (57, 3, 3, 3)


def test_a_starved_camera_is_not_blamed_on_stalls() -> None:
    unfair = served("abc" * 5 + "ab" * 5 + "abc" * 5)
    _waits, over, stalled, spanned = gaps_over_bound(unfair, 3, 1)
    assert over == 1 and stalled == 0 and spanned == 0


def test_the_ceiling_follows_the_machine_between_the_two_detector_runs() -> None:
    before, after = AloneRun(60.0, 30.0, 40.0, at=100.0), AloneRun(40.0, 45.0, 60.0, at=200.0)
    # A phase a quarter of the way from the first run to the second, while the machine
    # slowed from 60 to 40 images/s, is held to 55, not to the average of 50.
    assert ceiling_at(125.0, before, after) == 55.0
    assert ceiling_at(200.0, before, after) == 40.0
    # Outside the bracket the nearest run counts; no extrapolation of the drift.
    assert ceiling_at(90.0, before, after) == 60.0
    assert ceiling_at(260.0, before, after) == 40.0


def test_the_machines_own_stalls_put_an_ideal_schedule_over_the_bound() -> None:
    # Two processes starting an image every 10 ms each, nearly in step (1 ms apart), then
    # one stall of 60 ms: 4 cameras round robin wait 4 starts = 20 ms against a bound of
    # ceil(4/2) x 1.2 x 10 ms = 24 ms, except the waits that span the stall.
    steady = [[i * 0.01 for i in range(20)], [i * 0.01 + 0.001 for i in range(20)]]
    assert max(ideal_wait_ratios(steady, 4, 2)) == pytest.approx(20 / 24)
    stalled = [[t + 0.06 * (t >= 0.1) for t in times] for times in steady]
    ratios = ideal_wait_ratios(stalled, 4, 2)
    assert len(ratios) == 36
    assert [i for i, r in enumerate(ratios) if r > 1] == [16, 17, 18, 19]
    assert max(ratios) == pytest.approx(80 / 24)
    assert ideal_wait_ratios([steady[0][:2], steady[1][:2]], 4, 2) == []


def test_the_bound_holds_when_two_workers_claim_nearly_together() -> None:
    # Workers a and b claim 1 ms apart, each every 10 ms, 4 cameras round robin: every
    # camera waits 20 ms (4 claims) against ceil(4/2) x 1.2 x 10 ms = 24 ms. The fleet's
    # claim-to-claim intervals alternate 1 and 9 ms: their median is no service time.
    results, seq = [], dict.fromkeys("wxyz", 0)
    for i in range(40):
        cam, worker = "wxyz"[i % 4], "ab"[i % 2]
        seq[cam] += 1
        t = (i // 2) * 0.01 + 0.001 * (i % 2)
        results.append(service(i, cam, seq[cam], t, 0.01, worker))
    assert max_gap_ratio(results, 4, 2) == round(20 / 24, 3)
