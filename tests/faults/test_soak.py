"""A 3-minute soak: worker memory may grow during the first minute's warm-up, not after."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import MODEL_DIR, SAMPLES, require_shared, run_is21

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_three_minute_soak_memory_is_flat_after_warmup(tmp_path: Path) -> None:
    require_shared()
    out_csv = tmp_path / "soak.csv"
    out = run_is21(
        *("soak", "--hours", "0.05", "--interval", "10", "--warmup", "60"),
        *("--cameras", "8", "--fps", "2", "--images", str(SAMPLES)),
        *("--out", str(tmp_path), "--json"),
        env={"IS21_MODEL_DIR": str(MODEL_DIR), "IS21_INTRA_OP_THREADS": "1"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    assert report["csv"] == str(out_csv) and report["no_slope_because"] is None
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == report["samples"] >= 15
    assert all(float(r["results_per_s"]) > 5 for r in rows[1:]), rows
    assert all(0 < float(r["latency_p50_ms"]) < 2000 for r in rows[1:]), rows
    # After the warm-up, a leak of 10 MB/hour would add 0.3 MB in these 2 minutes; the
    # allowance is for allocator noise, and the numbers go in the CI log.
    grown = report["growth_after_warmup_mb"]
    assert grown["worker_rss_mb"] < 8, report
    assert grown["redis_used_mb"] < 8, report
    print(report)
