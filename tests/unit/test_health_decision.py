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
    # Only workers that would serve count, and only their inferences.
    assert body["workers"] == 2 and body["last_inference_at"] == "2026-12-06T07:00:02+00:00"
    assert body["schema_version"] == "2026-11-23.1" and body["uptime_sec"] == 12.3
    assert "problems" not in body


def test_redis_unreachable_is_down_with_the_reason() -> None:
    status, body = decide(Snapshot(unreachable="Connection refused"))
    assert status == 503 and body == {
        "status": "down",
        "redis": "unreachable",
        "reason": "Connection refused",
    }


def test_a_bad_stored_schema_is_degraded() -> None:
    status, body = decide(Snapshot(workers=[worker("a")], bad_schema="not JSON"))
    assert status == 503 and body["status"] == "degraded"
    assert body["reason"] == "stored schema is bad: not JSON"


def test_no_worker_is_down_and_says_why_a_worker_could_not_start() -> None:
    assert decide(Snapshot())[1]["reason"] == "no live worker"
    problem = {"worker": "h.npu1", "error": "model file missing"}
    status, body = decide(Snapshot(problems=[problem]))
    assert status == 503 and body["status"] == "down" and body["model_loaded"] is False
    assert body["reason"] == "no live worker: model file missing"
    assert body["problems"] == [problem]


def test_a_stuck_worker_degrades_even_with_others_serving() -> None:
    stuck = {"worker": "b", "error": "stuck: one frame in detection for 31 s", "stuck": True}
    status, body = decide(Snapshot(workers=[worker("a"), worker("b")], problems=[stuck]))
    assert status == 503 and body["status"] == "degraded"
    assert body["reason"] == "worker stuck in detection: b" and body["model_loaded"] is True


def test_workers_without_a_working_model_are_degraded() -> None:
    status, body = decide(Snapshot(workers=[worker("a", model_loaded=False)]))
    assert status == 503 and body["status"] == "degraded" and body["model_loaded"] is False
    assert body["reason"] == "no live worker has a model loaded" and body["workers"] == 1


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
    assert status == 200 and body["problems"] == [problem]
