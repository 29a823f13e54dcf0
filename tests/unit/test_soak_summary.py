"""The soak states a memory slope only over enough of the run after its warm-up: a short
run used to report a slope of 0 from a single sample (issue 30)."""

from __future__ import annotations

from is21.lab.soak import summarize


def rows(seconds: list[float], mb: list[float]) -> list[dict[str, float]]:
    return [
        {"elapsed_s": t, "worker_rss_mb": m, "redis_used_mb": m, "redis_rss_mb": m}
        for t, m in zip(seconds, mb, strict=True)
    ]


def test_a_run_that_ends_in_its_warmup_states_no_slope() -> None:
    report = summarize(rows([10, 20, 30, 40], [100, 150, 200, 250]), warmup=60)
    assert report.slopes is None and report.as_dict()["slope_mb_per_hour"] is None
    assert report.why is not None and report.why.startswith("0 samples over 0 s after the 60 s")


def test_too_few_samples_after_the_warmup_state_no_slope() -> None:
    report = summarize(rows([30, 60, 90], [100, 100, 101]), warmup=60)
    assert report.slopes is None and report.why is not None and "2 samples over 30 s" in report.why


def test_the_slope_leaves_the_warmup_out() -> None:
    # Fast growth in the warm-up, then 1 MB over an hour.
    times = [0.0, 30.0, 60.0, 1260.0, 2460.0, 3660.0]
    report = summarize(rows(times, [50, 100, 120, 120.333, 120.667, 121]), warmup=60)
    assert report.slopes is not None and report.growth_after_warmup_mb is not None
    assert abs(report.slopes["worker_rss_mb"] - 1.0) < 0.01
    assert abs(report.growth_after_warmup_mb["worker_rss_mb"] - 1.0) < 0.01
