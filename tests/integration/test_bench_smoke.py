"""The benchmark runs end to end and its numbers are well-formed (not that they are fast)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MODEL_DIR, require_shared, run_is21

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_bench_smoke() -> None:
    require_shared()
    out = run_is21(
        "bench",
        "--json",
        "--seconds",
        "1",
        "--workers",
        "1",
        "--cameras",
        "1,3",
        "--repeats",
        "1",
        env={
            "IS21_MODEL_DIR": str(MODEL_DIR),
            "PATH": "/usr/bin:/bin",
            "IS21_LOG_LEVEL": "WARNING",
        },
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    rows = report["rows"]
    assert [(r["phase"], r["cameras"]) for r in rows] == [
        ("detector alone", 0),
        ("fleet flat out", 1),
        ("fleet flat out", 3),
        ("flat, no incidents", 3),
        ("80% quiet, ungated", 3),
        ("80% quiet, gated", 3),
        ("fleet light 1fps", 1),
        ("naive RQ per frame", 3),
    ]
    assert rows[7]["results_per_s"] > 0 and rows[7]["ratio"] > 0
    gate = report["gate_capacity"]  # the same frames, gated and not, in each repeat
    assert gate["cameras"] == 3 and len(gate["ratios"]) == 1
    assert gate["gated_per_s"] == rows[5]["results_per_s"] > 0 and rows[4]["results_per_s"] > 0
    assert gate["ratios"][0] == round(rows[5]["results_per_s"] / rows[4]["results_per_s"], 2)
    assert 0.5 < gate["gated_share"] < 1  # the quiet frames, not the changes
    cost = report["incidents_cost"]  # the same phase without incidents, in each repeat
    assert cost["cameras"] == 3 and len(cost["ratio_with_minus_without"]) == 1
    assert cost["median"] == round(rows[2]["ratio"] - rows[3]["ratio"], 3)
    # The workers' own count: tracking costs CPU where incidents are on, next to nothing
    # where the schema switches them off, and a small part of a frame's CPU either way.
    assert cost["tracking_ms_with"] > cost["tracking_ms_without"] >= 0, cost
    assert cost["worker_cpu_ms_with"] > cost["tracking_ms_with"], cost
    assert cost["functions_ms_with"] > 0 and cost["functions_ms_without"] > 0, cost
    assert 0 < cost["share"] < 0.5 and len(cost["implied"]) == 1, cost
    assert rows[0]["results_per_s"] > 0 and rows[0]["per_image_ms"] > 0
    assert len(rows[0]["runs"]) == 2  # before and after the fleet's phases
    for r in rows[1:4]:
        assert r["results_per_s"] > 0 and 0 < r["ratio"] < 5 and r["ratio"] == r["ratios"][0]
        assert 0 < r["latency_p50_ms"] <= r["latency_p99_ms"]
        assert 0 <= r["frame_age_p50_ms"] <= r["frame_age_p99_ms"]
    assert rows[2]["max_gap_ratio"] is not None and rows[2]["max_gap_ratio"] > 0
    assert rows[2]["max_turns_ratio"] is not None and rows[2]["max_turns_ratio"] > 0
    waits, over, stalled, spanned = rows[2]["gaps_over_bound"]
    ideal_waits, ideal_over = rows[2]["ideal_over_bound"]
    assert ideal_waits > 0 and 0 <= ideal_over <= ideal_waits
    assert rows[2]["ideal_gap_ratio"] > 0
    assert waits > 0 and 0 <= stalled <= over <= waits and stalled <= spanned <= waits
    assert report["per_image_p99_ms"] >= rows[0]["per_image_ms"]
    for state in ("fresh", "recycled"):
        pre = report["preprocess_1080p"][state]
        assert pre["reduced_ms"] > 0 and pre["plain_ms"] > 0 and 0 < pre["ratio"] < 5
    assert report["dispatch_p50_ms"] is not None and report["dispatch_p50_ms"] >= 0
    assert len(report["worker_rss_mb"]) == 1 and 20 < report["worker_rss_mb"][0] < 2000
    assert report["redis_used_memory_mb"] > 0
    assert report["paced_per_image_ms"] > 0
    light = rows[6]
    assert 0 < light["added_p50_ms"] < light["latency_p50_ms"]
