"""A real Prometheus scraping `is21 health` in front of a real fleet: every dashboard
panel's query returns data, and stopping the last worker takes Is21NoLiveWorker to
firing within its `for:` plus a scrape and an evaluation."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.producer import FrameProducer
from tests.conftest import ROOT, Fleet, Health, free_port, run_is21
from tests.helpers import JPEG, wait_until
from tests.samples import photo

DASHBOARD = ROOT / "ops" / "grafana" / "is21-fleet.json"


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())["data"]

    def query(self, expr: str) -> list[Any]:
        return list(self.get("/api/v1/query", query=expr)["result"])

    def firing(self) -> set[str]:
        alerts = self.get("/api/v1/alerts")["alerts"]
        return {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[[Health], Prometheus]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus missing: install the Debian package 'prometheus' (setup.sh)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(health: Health) -> Prometheus:
        target = health.base.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{ROOT / 'ops' / 'prometheus' / 'alerts.yml'}']\n"
            "scrape_configs:\n"
            f"  - job_name: is21\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        prometheus = Prometheus(port)

        def scraped() -> bool:
            try:
                return bool(prometheus.query('up{job="is21"} == 1'))
            except OSError:
                return False

        wait_until(scraped, timeout=30, what="prometheus scraping is21 health")
        return prometheus

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


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
    assert fleet.stop() == [0]  # the last worker goes
    stopped = time.monotonic()
    wait_until(  # once its cached answer (1 s) lapses the producer falls back, counted
        lambda: producer.submit("prom-0", photo(JPEG)).fallback is not None, what="a fallback"
    )

    panels = json.loads(DASHBOARD.read_text())["panels"]
    queries = [t["expr"] for p in panels for t in p["targets"]]

    def no_data() -> list[str]:
        return [q for q in queries if not prometheus.query(q)]

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
