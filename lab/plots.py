"""The figures of ``is21 bench --plot DIR`` and ``is21 chaos --plot DIR``, from the same
reports the commands print. matplotlib is the ``plots`` extra (``pip install
is21[plots]``): imported here only, and this module only when a plot is asked for;
without it the command says so and prints its report as always."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WIDTH, HEIGHT, DPI = 8.0, 4.0, 80  # small PNGs: tens of KB, committed with the docs


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed: ``pip install is21[plots]``."""


def pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display, no GUI toolkit
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotsUnavailable("--plot needs matplotlib: pip install 'is21[plots]'") from exc
    return plt


def bench_plots(report: dict[str, Any], folder: Path) -> list[Path]:
    """Results a second of each phase against the detector alone, and the latency
    distribution of each fleet phase."""
    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    rows = report["rows"]
    alone = next(r for r in rows if r["phase"] == "detector alone")
    fleet = [r for r in rows if r["phase"] != "detector alone"]
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), dpi=DPI)
    names = [f"{r['phase']}\n{r['cameras']} cam" for r in fleet]
    ax.barh(names, [r["results_per_s"] for r in fleet], color="#4a90d9")
    ax.axvline(alone["results_per_s"], color="#c0392b", linestyle="--", label="detector alone")
    ax.set_xlabel("results a second (median of repeats)")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    ax.set_title(f"is21 bench: {report['workers']} workers, {report['cores']} cores")
    throughput = save(plt, fig, folder / "bench-throughput.png")
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), dpi=DPI)
    for phase, quantiles in report["latency_quantiles"].items():
        if quantiles:
            ax.plot(quantiles, [q / 100 for q in range(1, 100)], label=phase)
    ax.set_xscale("log")
    ax.set_xlabel("submit to result, ms (log)")
    ax.set_ylabel("share of frames")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("is21 bench: latency distribution per phase")
    return [throughput, save(plt, fig, folder / "bench-latency.png")]


def chaos_plot(run: Any, folder: Path) -> list[Path]:
    """Results and fallbacks a second through the run, the workers alive, and each fault
    as a band from when it was injected to when it was undone."""
    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    timeline, start = run.timeline, run.timeline.get("start", 0.0)
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), dpi=DPI)
    last = max(
        (int(s) for key in ("results", "fallbacks") for s in timeline.get(key, {})), default=0
    )
    for key, colour in (("results", "#2e86c1"), ("fallbacks", "#c0392b")):
        per_second = timeline.get(key, {})  # a second with none is a zero, not a gap
        counts = [per_second.get(str(s), 0) for s in range(last + 1)]
        ax.plot(range(last + 1), counts, color=colour, label=f"{key}/s")
    colours = {"kill": "#f5b041", "stop": "#af7ac5", "cut": "#5dade2", "restart": "#58d68d"}
    for fault in run.faults:
        colour = colours.get(fault.kind, "#e74c3c")
        end = fault.end if fault.end > fault.start else fault.start + 1
        ax.axvspan(fault.start - start, end - start, color=colour, alpha=0.25)
        ax.text(fault.start - start, ax.get_ylim()[1] * 0.95, fault.kind, fontsize=7)
    alive = ax.twinx()
    alive.step([t - start for t, _ in run.live], [n for _, n in run.live], color="#555",
               where="post", linewidth=1, label="workers alive")  # fmt: skip
    alive.set_ylabel("workers alive")
    alive.set_ylim(0, max([n for _, n in run.live], default=1) + 1)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("per second")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("is21 chaos: faults (bands) against results, fallbacks and workers")
    return [save(plt, fig, folder / "chaos-timeline.png")]


def save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
