"""The benchmark runs end to end and its numbers are well-formed (not that they are fast)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import MODEL_DIR, ROOT, require_shared


def test_bench_smoke() -> None:
    require_shared()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ops",
            "bench",
            "--json",
            "--seconds",
            "1",
            "--workers",
            "1",
            "--cameras",
            "1,3",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={
            "IS21_MODEL_DIR": str(MODEL_DIR),
            "PATH": "/usr/bin:/bin",
            "IS21_LOG_LEVEL": "WARNING",
        },
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout)
    assert [(r["phase"], r["cameras"]) for r in rows] == [
        ("detector alone", 0),
        ("fleet flat out", 1),
        ("fleet flat out", 3),
    ]
    assert rows[0]["results_per_s"] > 0
    for r in rows[1:]:
        assert r["results_per_s"] > 0 and 0 < r["ratio"] < 5
        assert 0 < r["latency_p50_ms"] <= r["latency_p99_ms"]
        assert r["dispatch_p50_ms"] is not None and r["dispatch_p50_ms"] >= 0
