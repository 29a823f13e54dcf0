"""The CPU-per-frame bench runs end to end (its figures are for docs, not asserted)."""

from __future__ import annotations

import shutil
from pathlib import Path

from is21.lab.bench.cpu_frame import format_table, measure
from tests.conftest import MODEL_DIR, SAMPLES, require_shared


def test_cpu_frame_bench_reports_every_step(tmp_path: Path) -> None:
    require_shared()
    for photo in sorted(SAMPLES.glob("*.jpg"))[:2]:
        shutil.copyfile(photo, tmp_path / photo.name)
    report = measure(tmp_path, MODEL_DIR / "yolox_nano.onnx", rounds=1)
    assert set(report["sizes"]) == {"1080p", "720p"}
    for row in report["sizes"].values():
        assert all(row[k] > 0 for k in row)
    table = format_table(report)
    assert "| 1080p |" in table and "NPU cores one core feeds" in table
