"""The health endpoint as is22 and Prometheus see it: a real server process, real workers."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import urlopen

import redis
from prometheus_client.parser import text_string_to_metric_families

from is21.ops.embedded_redis import EmbeddedRedis
from is21.ops.health import HealthApp
from is21.ops.health.routes import Routes
from is21.ops.health.server import HealthServer, make_handler
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import Fleet, Health
from tests.helpers import JPEG, wait_until
from tests.samples import photo


def test_healthz_follows_the_workers(
    health_factory: Callable[..., Health], fleet_factory: Callable[..., Fleet], client: redis.Redis
) -> None:
    health = health_factory()
    status, body = health.json("/healthz")
    assert status == 503 and body["status"] == "down" and body["workers"] == 0

    started = time.monotonic()
    fleet = fleet_factory(1, IS21_HEARTBEAT_TTL="3", IS21_HEARTBEAT_INTERVAL="0.5")
    while (status := health.json("/healthz")[0]) != 200 and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert status == 200 and time.monotonic() - started < 5
    status, body = health.json("/healthz")
    assert body["status"] == "ok" and body["model_loaded"] is True and body["workers"] == 1
    assert body["schema_version"] and body["uptime_sec"] >= 0

    fleet.procs[0].send_signal(signal.SIGKILL)
    fleet.procs[0].wait()
    killed = time.monotonic()
    while health.json("/healthz")[0] == 200 and time.monotonic() - killed < 10:
        time.sleep(0.05)
    assert health.json("/healthz")[1]["status"] == "down"
    assert time.monotonic() - killed < 3 + 2  # heartbeat TTL + 2 s


def test_metrics_parse_and_count(
    health_factory: Callable[..., Health], fleet: Fleet, producer: FrameProducer
) -> None:
    health = health_factory()
    for name in ("COCO_val2014_000000181013.jpg", "COCO_val2014_000000181386.jpg"):
        producer.wait(producer.submit("m1", photo(name)), timeout=20)
    status, text = health.request("/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text.decode())}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("is21_inference_total", (("status", "success"),))] == 2
    assert samples[("is21_frame_latency_ms_count", ())] == 2
    assert samples[("is21_workers_stuck", ())] == 0
    assert samples[("is21_frames_total", (("camera_id", "m1"), ("outcome", "submitted")))] == 2
    assert samples[("is21_processing_duration_ms_count", ())] == 2
    assert samples[("is21_processing_duration_ms_sum", ())] > 0
    # The old name, for one release: the same figures.
    assert samples[("is21_inference_duration_ms_count", ())] == 2
    assert samples[("is21_workers_alive", ())] == 2
    assert families["is21_processing_duration_ms"].type == "histogram"
    assert any(
        s.name == "is21_schema_version" and s.value == 1
        for s in families["is21_schema_version"].samples
    )


def test_capabilities(health_factory: Callable[..., Health], fleet: Fleet) -> None:
    status, body = health_factory().json("/v1/capabilities")
    assert status == 200
    assert body["backends"] == ["onnx"]
    assert (
        body["models"][0]["name"] == "yolox-nano-coco" and "person" in body["models"][0]["labels"]
    )
    assert set(body["events"]) == {"human", "animal"}
    assert sorted(w["worker"] for w in body["workers"]) == ["w0", "w1"]


VEHICLES = {
    "version": "2026-11-24.1",
    "events": {
        "human": {"labels": ["person"], "min_score": 0.5},
        "vehicle": {"labels": ["car", "motorcycle", "bus", "truck"], "min_score": 0.5},
    },
    "priority": ["vehicle", "human"],
}


def test_schema_push_reaches_workers_without_restart(
    health_factory: Callable[..., Health], fleet: Fleet, producer: FrameProducer
) -> None:
    health = health_factory()
    rider = photo("COCO_val2014_000000181296.jpg")  # a person on a motorcycle, a car
    before = producer.wait(producer.submit("s1", rider), timeout=20)
    assert before.primary_event == "human"
    assert health.json("/v1/schema", method="PUT", body=b'{"version": "x"}')[0] == 400
    status, body = health.json("/v1/schema", method="PUT", body=json.dumps(VEHICLES).encode())
    assert (status, body["version"]) == (200, "2026-11-24.1")
    assert health.json("/v1/schema")[1]["priority"] == ["vehicle", "human"]
    after = producer.wait(producer.submit("s1", rider), timeout=20)
    assert after.schema_version == "2026-11-24.1"
    assert (after.primary_event, after.events) == ("vehicle", ["vehicle", "human"])
    changed = {**VEHICLES, "priority": ["human", "vehicle"]}  # same version, other rules
    status, body = health.json("/v1/schema", method="PUT", body=json.dumps(changed).encode())
    assert status == 400 and "bump" in body["error"]


def test_schema_push_needs_the_token_when_one_is_set(health_factory: Callable[..., Health]) -> None:
    health = health_factory(IS21_ADMIN_TOKEN="t0ken-of-sixteen-chars")
    body = json.dumps(VEHICLES).encode()
    assert health.json("/v1/schema", method="PUT", body=body)[0] == 401
    assert (
        health.json(
            "/v1/schema", method="PUT", body=body, headers={"Authorization": "Bearer nope"}
        )[0]
        == 401
    )
    assert (
        health.json(
            "/v1/schema",
            method="PUT",
            body=body,
            headers={"Authorization": "Bearer t0ken-of-sixteen-chars"},
        )[0]
        == 200
    )
    assert health.request("/v1/schema", method="PUT", body=b"x" * 70_000)[0] == 413
    assert health.request("/nowhere")[0] == 404


def test_off_loopback_schema_changes_need_a_token(client: redis.Redis, settings: Settings) -> None:
    app = HealthApp(client, settings.model_copy(update={"host": "0.0.0.0"}))
    status, body = app.routes.put_schema(json.dumps(VEHICLES).encode(), None)
    assert status == 403 and "IS21_ADMIN_TOKEN" in body["error"]


def test_unreachable_redis_is_503_without_hanging(tmp_path: Path) -> None:
    app = HealthApp(connect(f"unix://{tmp_path}/none.sock", timeout=0.5, retries=0), Settings())
    started = time.monotonic()
    status, body = app.healthz()
    assert status == 503 and body["redis"] == "unreachable"
    assert app.routes.metrics()[0] == 503
    assert time.monotonic() - started < 2


def test_frames_waiting_while_nothing_is_served_is_degraded(
    health_factory: Callable[..., Health],
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
) -> None:
    """Every heartbeat fresh, yet nothing served: stray entries in is21:jobs make dispatch
    believe every worker has its job, so none gets a new one when its budget ends."""
    fleet_factory(1, IS21_JOB_BUDGET="1")
    health = health_factory(IS21_MAX_FRAME_AGE="2")
    producer.wait(producer.submit("porch", photo(JPEG)), timeout=20)
    assert health.json("/healthz")[0] == 200
    client.zadd(keys.JOBS, {"ghost-1": 2**50, "ghost-2": 2**50})
    wait_until(lambda: client.zcard(keys.JOBS) == 2, what="the live job to end")
    producer.submit("porch", photo(JPEG))
    wait_until(lambda: health.json("/healthz")[0] == 503, timeout=15, what="503")
    _status, body = health.json("/healthz")
    assert body["status"] == "degraded" and body["reason"].startswith("stalled: 1 camera")
    assert body["workers"] == 1  # alive all along
    _, text = health.request("/metrics")
    assert "is21_fleet_stalled 1.0" in text.decode()
    client.zrem(keys.JOBS, "ghost-1", "ghost-2")  # the heartbeat restores dispatch
    wait_until(lambda: health.json("/healthz")[0] == 200, timeout=15, what="200 again")


def test_a_redis_that_may_evict_fleet_keys_is_a_problem(tmp_path: Path) -> None:
    with EmbeddedRedis(extra_args=("--maxmemory-policy", "allkeys-lru")) as server:
        app = HealthApp(connect(server.url), Settings(redis_url=server.url))
        _status, body = app.healthz()
        (problem,) = body["problems"]
        assert "allkeys-lru, not noeviction" in problem


def test_150_concurrent_healthz_requests_all_answer_ok(
    health_factory: Callable[..., Health], fleet_factory: Callable[..., Fleet]
) -> None:
    fleet_factory(1)
    health = health_factory()
    wait_until(lambda: health.json("/healthz")[0] == 200, what="200")
    with ThreadPoolExecutor(max_workers=150) as pool:
        answers = list(pool.map(lambda _: health.json("/healthz"), range(150)))
    assert {(status, body["status"]) for status, body in answers} == {(200, "ok")}


def test_a_redis_too_full_for_frames_is_degraded(own_redis: EmbeddedRedis) -> None:
    """Producers refuse every frame above IS21_REDIS_MEMORY_HIGH: the camera server is
    blind, so /healthz must not say ok."""
    client = connect(own_redis.url)
    client.set(keys.heartbeat("w"), json.dumps({"worker": "w", "model_loaded": True}))
    client.zadd(keys.WORKERS, {"w": time.time() * 1000 + 60_000})
    app = HealthApp(client, Settings(redis_url=own_redis.url))
    assert app.healthz()[0] == 200
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", str(int(used / 0.95)))  # used is 95 % of it
    try:
        status, body = app.healthz()
    finally:
        client.config_set("maxmemory", "0")
    assert status == 503 and body["status"] == "degraded"
    assert body["reason"].startswith("memory high"), body


def test_slow_routes_cannot_delay_the_probe(client: redis.Redis, settings: Settings) -> None:
    """Eight /metrics requests hang, holding every connection their routes have: is22's
    probe is answered while all of them are still hanging."""
    routes_client = connect(settings.redis_url, max_connections=2, timeout=30)
    app = HealthApp(client, settings, routes_client=routes_client)
    client.set(keys.heartbeat("w"), json.dumps({"worker": "w", "model_loaded": True}))
    client.zadd(keys.WORKERS, {"w": time.time() * 1000 + 60_000})
    release, holding = threading.Event(), threading.Semaphore(0)

    class SlowRoutes(Routes):
        def metrics(self) -> tuple[int, bytes]:
            pool = routes_client.connection_pool
            conn = pool.get_connection()  # waits while the other requests hold both
            holding.release()
            release.wait(30)
            pool.release(conn)
            return 200, b""

    app.routes = SlowRoutes(routes_client, settings)
    server = HealthServer(("127.0.0.1", 0), make_handler(app))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            hanging = [pool.submit(urlopen, f"{base}/metrics", timeout=60) for _ in range(8)]
            for _ in range(2):  # both of the routes' connections taken
                assert holding.acquire(timeout=10)
            with urlopen(f"{base}/healthz", timeout=10) as answer:
                assert answer.status == 200 and json.load(answer)["status"] == "ok"
            assert not any(f.done() for f in hanging)
            release.set()
            assert all(f.result().status == 200 for f in hanging)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        client.delete(keys.heartbeat("w"))
        client.zrem(keys.WORKERS, "w")
