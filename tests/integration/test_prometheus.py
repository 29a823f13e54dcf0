"""A real Prometheus scraping `is21 health` in front of a real fleet: every dashboard
panel's query returns data, and stopping the last worker takes Is21NoLiveWorker to
firing within its `for:` plus a scrape and an evaluation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import redis

from is21.producer import FrameProducer
from tests.conftest import ROOT, RUNBOOK_URL, Fleet, Health, Prometheus, run_is21
from tests.helpers import JPEG, wait_until
from tests.samples import photo

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)

DASHBOARD = ROOT / "ops" / "grafana" / "is21-fleet.json"


def test_dashboard_queries_have_data_and_the_no_worker_alert_fires(
    fleet_factory: Callable[..., Fleet],
    health_factory: Callable[..., Health],
    prometheus_factory: Callable[[Health], Prometheus],
    producer: FrameProducer,
    client: redis.Redis,
) -> None:
    fleet = fleet_factory(1)
    prometheus = prometheus_factory(health_factory())
    for i in range(6):
        producer.wait(producer.submit(f"prom-{i % 2}", photo(JPEG)), timeout=20)
    panels = json.loads(DASHBOARD.read_text())["panels"]
    queries = [t["expr"] for p in panels for t in p["targets"]]
    # Per-worker panels while the worker lives: its series end with it.
    per_worker = [q for q in queries if q.startswith(("is21_worker_", "is21_worker_frame"))]
    assert len(per_worker) == 3
    wait_until(
        lambda: all(prometheus.query(q) for q in per_worker),
        timeout=20,
        what=f"data for {per_worker}",
    )
    assert fleet.stop() == [0]  # the last worker goes
    stopped = time.monotonic()
    wait_until(  # once its cached answer (1 s) lapses the producer falls back, counted
        lambda: producer.submit("prom-0", photo(JPEG)).fallback is not None, what="a fallback"
    )

    def no_data() -> list[str]:
        return [q for q in queries if q not in per_worker and not prometheus.query(q)]

    wait_until(lambda: not no_data(), timeout=30, what="data for every panel")
    # is21 slo over the same data: once the fallback counter grows between two scrapes
    # (increase() counts nothing of a series' first sample), availability drops.
    for _ in range(3):
        assert producer.submit("prom-0", photo(JPEG)).fallback is not None
    fallen = "sum(increase(is21_fallback_total[5m])) > 0"
    wait_until(lambda: prometheus.query(fallen), timeout=15, what="the fallbacks scraped")
    out = run_is21("slo", "--prometheus", prometheus.base, "--window", "5m", "--json", env={})
    slo = {row["slo"]: row for row in json.loads(out.stdout)}
    assert 0.5 < slo["availability"]["value"] < 1 and slo["availability"]["met"] is False
    assert slo["error_rate"]["value"] == 0 and slo["latency_p95"]["value"] > 0
    assert out.returncode == 1  # an SLO missed
    wait_until(
        lambda: "Is21NoLiveWorker" in prometheus.firing(),
        timeout=30 + 10,
        what="Is21NoLiveWorker firing",
    )
    # for: 30s, plus a scrape (1 s) and an evaluation (1 s), plus slack for this VM.
    assert time.monotonic() - stopped < 30 + 2 + 6
    # Its runbook link starts from the base the Prometheus names (one external label).
    (alert,) = [a for a in prometheus.alerts() if a["labels"]["alertname"] == "Is21NoLiveWorker"]
    assert alert["annotations"]["runbook_url"] == f"{RUNBOOK_URL}#p1-healthz-is-503"
