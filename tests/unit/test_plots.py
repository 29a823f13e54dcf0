"""``--plot`` (issue 33): the figures are drawn from the reports the commands print, as
small PNGs, and a machine without matplotlib gets the report and a line saying why there
are no figures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from is21.lab import plots
from is21.lab.chaos_report import Fault, Run
from is21.lab.commands.bench import plot

PNG = b"\x89PNG\r\n\x1a\n"


def bench_report() -> dict[str, object]:
    rows = [
        {"phase": "detector alone", "cameras": 0, "results_per_s": 62.4},
        {"phase": "fleet flat out", "cameras": 8, "results_per_s": 50.1},
        {"phase": "fleet flat out", "cameras": 30, "results_per_s": 54.5},
        {"phase": "80% quiet, gated", "cameras": 30, "results_per_s": 171.8},
    ]
    curve = [40.0 + q for q in range(99)]
    return {
        "rows": rows,
        "workers": 2,
        "cores": 2,
        "latency_quantiles": {"fleet flat out, 30 cam": curve, "naive RQ per frame, 30 cam": []},
    }


def test_bench_figures_are_small_pngs(tmp_path: Path) -> None:
    drawn = plots.bench_plots(bench_report(), tmp_path / "figs")
    assert [p.name for p in drawn] == ["bench-throughput.png", "bench-latency.png"]
    for path in drawn:
        data = path.read_bytes()
        assert data.startswith(PNG) and 5_000 < len(data) < 150_000


def test_the_chaos_timeline_is_a_small_png(tmp_path: Path) -> None:
    start = 1_800_000_000.0
    run = Run(
        faults=[
            Fault("kill", "board1", start + 20, start + 25),
            Fault("failover", "redis", start + 40),
        ],
        live=[(start + t, 3 if not 20 <= t < 27 else 2) for t in range(0, 60, 2)],
        timeline={
            "start": start,
            "results": {str(s): 60 if s % 40 else 0 for s in range(60)},
            "fallbacks": {"40": 12, "41": 3},
        },
    )
    (path,) = plots.chaos_plot(run, tmp_path)
    data = path.read_bytes()
    assert path.name == "chaos-timeline.png" and data.startswith(PNG) and len(data) < 150_000


def test_without_matplotlib_the_command_says_so_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    plot(lambda p: p.bench_plots(bench_report(), tmp_path))
    assert "no plots: --plot needs matplotlib: pip install 'is21[plots]'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
