"""Which expected workers are missing, from the seen set and the live heartbeats alone."""

from __future__ import annotations

from is21.ops.problems import ago, missing_workers

NOW = 1_800_000_000_000.0  # ms


def test_a_seen_worker_without_a_fresh_heartbeat_is_missing_with_its_age() -> None:
    seen = {"a": NOW - 1_000, "b": NOW - 95_000, "c": NOW - 3 * 86_400_000}
    (problem,) = missing_workers(seen, [{"worker": "a"}], NOW, forget_after_s=86_400)
    assert problem["worker"] == "b" and problem["missing"] is True
    assert problem["last_seen_s"] == 95.0
    assert problem["error"].startswith("missing: no heartbeat for 95 s (last seen 2027-")


def test_a_live_worker_is_never_missing_however_old_its_seen_entry() -> None:
    seen = {"a": NOW - 10 * 86_400_000}
    assert missing_workers(seen, [{"worker": "a"}], NOW, forget_after_s=60) == []


def test_ages_read_as_a_person_would_say_them() -> None:
    assert [
        ago(s) for s in (0, 59.9, 119, 120, 3599, 3600, 3 * 3600 + 5 * 60, 2 * 86400 + 4 * 3600)
    ] == [
        "0 s",
        "59 s",
        "119 s",
        "2 min",
        "59 min",
        "1 h 0 min",
        "3 h 5 min",
        "2 d 4 h",
    ]
