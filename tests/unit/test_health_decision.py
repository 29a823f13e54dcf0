"""Every answer /healthz gives is22, from snapshots alone: no Redis, no workers, no HTTP."""

from __future__ import annotations

from typing import Any

from is21.ops.health.decision import Snapshot, decide


def worker(name: str, **fields: Any) -> dict[str, Any]:
    return {"worker": name, "model_loaded": True, **fields}


def test_a_live_worker_with_its_model_is_ok_and_names_the_newest_inference() -> None:
    snap = Snapshot(
        workers=[
            worker("a", last_inference_at="2026-12-06T07:00:00+00:00"),
            worker("b", last_inference_at="2026-12-06T07:00:02+00:00"),
            worker("c", model_loaded=False, last_inference_at="2026-12-06T07:00:09+00:00"),
        ],
        schema_version="2026-11-23.1",
        uptime_s=12.345,
    )
    status, body = decide(snap)
    assert status == 200
    assert body["status"] == "ok" and body["model_loaded"] is True
    # Only workers that would serve count as serving, and only their inferences.
    assert body["workers_serving"] == 2 and body["workers_alive"] == 3
    assert body["workers_expected"] == 3 and body["workers"] == 2
    assert body["last_inference_at"] == "2026-12-06T07:00:02+00:00"
    assert body["schema_version"] == "2026-11-23.1" and body["endpoint_uptime_s"] == 12.3
    assert body["problems"] == [] and body["reason"] is None and body["redis"] == "ok"


def test_redis_unreachable_is_down_with_the_reason() -> None:
    status, body = decide(Snapshot(unreachable="Connection refused"))
    assert status == 503 and body["status"] == "down" and body["redis"] == "unreachable"
    assert body["reason"] == "Connection refused"
    # What cannot be known is null, not left out.
    for unknown in ("workers_alive", "workers_expected", "model_loaded", "last_inference_at"):
        assert body[unknown] is None


def test_a_bad_stored_schema_is_degraded() -> None:
    status, body = decide(Snapshot(workers=[worker("a")], bad_schema="not JSON"))
    assert status == 503 and body["status"] == "degraded"
    assert body["reason"] == "stored schema is bad: not JSON"


def test_no_worker_is_down_and_says_why_a_worker_could_not_start() -> None:
    assert decide(Snapshot())[1]["reason"] == "no live worker"
    problem = {"worker": "h.npu1", "error": "model file missing"}
    status, body = decide(Snapshot(problems=[problem]))
    assert status == 503 and body["status"] == "down" and body["model_loaded"] is False
    assert body["reason"] == "no live worker: h.npu1: model file missing"
    assert body["problems"] == ["h.npu1: model file missing"]


def test_a_stuck_worker_degrades_even_with_others_serving() -> None:
    stuck = {"worker": "b", "error": "stuck: one frame in detection for 31 s", "stuck": True}
    status, body = decide(Snapshot(workers=[worker("a"), worker("b")], problems=[stuck]))
    assert status == 503 and body["status"] == "degraded"
    assert body["reason"] == "worker stuck in detection: b" and body["model_loaded"] is True


def test_workers_without_a_working_model_are_degraded() -> None:
    status, body = decide(Snapshot(workers=[worker("a", model_loaded=False)]))
    assert status == 503 and body["status"] == "degraded" and body["model_loaded"] is False
    assert body["reason"] == "no live worker has a model loaded" and body["workers_alive"] == 1


def test_a_blind_fleet_is_degraded_with_the_first_blind_reason() -> None:
    problems = [
        {"worker": "camera c1", "error": "camera c1: its frames fail"},  # not blind
        {"worker": "fleet", "error": "stalled: 3 camera(s) waiting", "blind": True},
    ]
    status, body = decide(Snapshot(workers=[worker("a")], problems=problems))
    assert status == 503 and body["reason"] == "stalled: 3 camera(s) waiting"


def test_problems_that_do_not_stop_serving_are_listed_with_a_200() -> None:
    problem = {"worker": "redis", "error": "maxmemory-policy allkeys-lru may evict fleet keys"}
    status, body = decide(Snapshot(workers=[worker("a")], problems=[problem]))
    assert status == 200 and body["problems"] == [f"redis: {problem['error']}"]


MISSING = {"worker": "h.npu2", "error": "missing: no heartbeat for 20 s (last seen ...)"}


def test_a_missing_worker_among_live_ones_is_a_problem_not_a_503() -> None:
    """A third of the NPU gone is for an operator to see; is22 must go on asking the two
    cores left rather than fall back to no_event."""
    problems = [{**MISSING, "missing": True}]
    status, body = decide(Snapshot(workers=[worker("h.npu0"), worker("h.npu1")], problems=problems))
    assert status == 200 and body["status"] == "ok"
    assert body["workers_alive"] == 2 and body["workers_expected"] == 3
    assert body["problems"] == ["h.npu2: missing: no heartbeat for 20 s (last seen ...)"]


def test_every_missing_worker_is_down() -> None:
    status, body = decide(Snapshot(problems=[{**MISSING, "missing": True}]))
    assert status == 503 and body["status"] == "down" and body["workers_expected"] == 1
    assert body["reason"].startswith("no live worker: h.npu2: missing")


def test_the_body_has_the_same_keys_in_every_state() -> None:
    stuck = {"worker": "a", "error": "stuck", "stuck": True}
    blind = {"worker": "fleet", "error": "stalled", "blind": True}
    states = [
        Snapshot(workers=[worker("a")]),
        Snapshot(),
        Snapshot(unreachable="refused"),
        Snapshot(bad_schema="not JSON"),
        Snapshot(workers=[worker("a")], problems=[stuck]),
        Snapshot(workers=[worker("a", model_loaded=False)]),
        Snapshot(workers=[worker("a")], problems=[blind]),
        Snapshot(workers=[worker("a")], problems=[{**MISSING, "missing": True}]),
    ]
    shapes = {tuple(sorted(decide(s)[1])) for s in states}
    assert len(shapes) == 1, shapes
    assert {decide(s)[1]["status"] for s in states} == {"ok", "degraded", "down"}
