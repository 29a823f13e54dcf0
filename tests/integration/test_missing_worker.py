"""A dead worker among several is seen (issue 30): one of three real workers SIGKILLed is
named in /healthz (still 200: two thirds of the capacity serve on), in `is21 status`, in
`is21 workers` and in /metrics, until it comes back or is forgotten."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable

import redis
from prometheus_client.parser import text_string_to_metric_families
from rq import Worker

from is21.producer import FrameProducer
from tests.conftest import Fleet, Health, fleet_env, run_is21
from tests.helpers import JPEG, wait_until
from tests.samples import photo

FAST = {"IS21_HEARTBEAT_TTL": "3", "IS21_HEARTBEAT_INTERVAL": "0.5"}


def test_a_killed_worker_among_three_is_named_everywhere_until_forgotten(
    fleet_factory: Callable[..., Fleet],
    health_factory: Callable[..., Health],
    producer: FrameProducer,
    client: redis.Redis,
) -> None:
    fleet = fleet_factory(3, **FAST)
    health = health_factory(**FAST)
    wait_until(lambda: health.json("/healthz")[1]["workers_alive"] == 3, what="3 alive")
    assert health.json("/healthz")[1]["workers_expected"] == 3

    fleet.procs[2].send_signal(signal.SIGKILL)  # w2: no goodbye
    fleet.procs[2].wait()
    wait_until(lambda: health.json("/healthz")[1]["workers_alive"] == 2, timeout=10, what="2")
    status, body = health.json("/healthz")
    assert status == 200 and body["status"] == "ok"  # is22 goes on asking the other two
    assert body["workers_expected"] == 3
    (problem,) = body["problems"]
    assert problem.startswith("w2: missing: no heartbeat for ")
    # The two left serve.
    assert producer.wait(producer.submit("porch", photo(JPEG)), timeout=20).status == "ok"
    # rq info stops listing it (RQ alone: its worker TTL plus a minute, 8 minutes).
    wait_until(
        lambda: sorted(w.name for w in Worker.all(connection=client)) == ["w0", "w1"],
        timeout=15,
        what="rq info to drop w2",
    )

    env = fleet_env(producer.settings.redis_url, **FAST)
    shown = run_is21("status", "--once", env=env)
    assert shown.returncode == 0, shown.stderr
    print(shown.stdout)  # the screenshot, in the test output
    assert "2 alive of 3 expected" in shown.stdout and "w2 " in shown.stdout
    assert "MISSING" in shown.stdout
    as_json = json.loads(run_is21("status", "--json", env=env).stdout)
    assert [w["worker"] for w in as_json["workers"] if w.get("missing")] == ["w2"]
    listed = run_is21("workers", env=env).stdout
    assert [line.split()[:2] for line in listed.splitlines()[1:]] == [
        ["w0", "alive"],
        ["w1", "alive"],
        ["w2", "MISSING"],
    ]

    _, text = health.request("/metrics")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text.decode())
        for s in f.samples
    }
    assert samples[("is21_workers_expected", ())] == 3
    assert samples[("is21_worker_missing", (("worker", "w2"),))] == 1

    refused = run_is21("workers", "forget", "w0", env=env)
    assert refused.returncode == 1 and "w0 still beats" in refused.stderr
    assert "Traceback" not in refused.stderr
    forgotten = run_is21("workers", "forget", "w2", env=env)
    assert forgotten.returncode == 0 and forgotten.stdout == "forgot w2\n"
    status, body = health.json("/healthz")
    assert status == 200 and body["workers_expected"] == 2 and body["problems"] == []


def test_a_worker_stopped_on_purpose_is_not_missing(
    fleet_factory: Callable[..., Fleet], health_factory: Callable[..., Health]
) -> None:
    """systemctl stop (SIGTERM) is a goodbye: the fleet stops expecting that worker."""
    fleet = fleet_factory(2, **FAST)
    health = health_factory(**FAST)
    wait_until(lambda: health.json("/healthz")[1]["workers_alive"] == 2, what="2 alive")
    fleet.procs[1].send_signal(signal.SIGTERM)
    assert fleet.procs[1].wait(timeout=20) == 0
    status, body = health.json("/healthz")
    assert status == 200 and body["workers_alive"] == 1 and body["workers_expected"] == 1
    assert body["problems"] == []
