"""A detector that hangs: the heartbeat and /healthz say so once IS21_INFER_TIMEOUT is
passed, and the worker stops pinging systemd's watchdog (which then restarts it).

The hang is real: an ONNX model whose graph loops a million matrix products, run by
onnxruntime in a real worker process."""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import redis
from onnx import TensorProto, helper, numpy_helper

from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import Fleet, Health, Prometheus, fleet_env
from tests.helpers import wait_until
from tests.samples import photo

NC = 2
CAT = "COCO_val2014_000000181586.jpg"


def hanging_yolov8_model(path: Path, iterations: int = 1_000_000_000) -> None:
    """A yolov8-shaped model (64x64 in, 4 + NC rows out) that computes for many minutes.

    Each step is v = tanh(v @ w) with a gain of 1.28: v settles at tanh's fixed point
    (~0.6) and every step is a full-speed 64x64 matrix product (~4 µs: an hour). A gain below 1
    decays into subnormal floats, whose slowness then depended on the input's pixels.
    """
    weights = np.full((64, 64), 0.02, np.float32)
    base = np.zeros((1, 4 + NC, 4), np.float32)
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("MatMul", ["v_in", "w"], ["prod"]),
            helper.make_node("Tanh", ["prod"], ["v_out"]),
        ],
        "spin",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [64, 64]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [64, 64]),
        ],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    nodes = [
        helper.make_node("ReduceMax", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["w0", "m"], ["v0"]),  # depends on the input: not folded
        helper.make_node("Loop", ["trips", "yes", "v0"], ["v"], body=body),
        helper.make_node("ReduceSum", ["v"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "zero"], ["nothing"]),
        helper.make_node("Add", ["base", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "hang",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + NC, 4])],
        initializer=[
            numpy_helper.from_array(weights, "w0"),
            numpy_helper.from_array(np.array(iterations, np.int64), "trips"),
            numpy_helper.from_array(np.array(True), "yes"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(base, "base"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def deploy_hanging_model(root: Path) -> tuple[Path, Path]:
    models = root / "models"
    models.mkdir()
    hanging_yolov8_model(models / "hang.onnx")
    digest = hashlib.sha256((models / "hang.onnx").read_bytes()).hexdigest()
    manifest = models / "manifest.toml"
    manifest.write_text(
        "[[detector]]\n"
        'name = "hang"\nfile = "hang.onnx"\n'
        f'sha256 = "{digest}"\n'
        'backend = "onnx"\nformat = "yolov8"\ninput_size = [64, 64]\n'
        'labels = ["person", "dog"]\n'
    )
    return models, manifest


def test_a_hung_detector_is_reported_and_the_watchdog_starves(
    client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
    health_factory: Callable[..., Health],
    prometheus_factory: Callable[[Health], Prometheus],
) -> None:
    models, manifest = deploy_hanging_model(tmp_path)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(0.2)
    env = fleet_env(
        settings.redis_url or "",
        IS21_MODEL_DIR=str(models),
        IS21_MANIFEST=str(manifest),
        IS21_INFER_TIMEOUT="2",
        IS21_HEARTBEAT_INTERVAL="0.5",
        NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
    )
    fleet = Fleet(settings.redis_url or "", env, [], tmp_path)
    fleet.start("hang0")
    fleet.wait_alive(client, 1)
    health = health_factory()
    prometheus = prometheus_factory(health)
    try:

        def pings(seconds: float) -> int:
            count, end = 0, time.monotonic() + seconds
            while time.monotonic() < end:
                with contextlib.suppress(TimeoutError):
                    count += notify.recv(64) == b"WATCHDOG=1"
            return count

        assert pings(2) >= 2  # idle and healthy: the watchdog is fed
        producer = FrameProducer(client, settings)
        producer.submit("hang-cam", photo(CAT))
        deadline = time.monotonic() + 20
        while True:
            raw: Any = client.get(keys.heartbeat("hang0"))
            beat = json.loads(raw or b"{}")
            if beat.get("stuck"):
                break
            assert time.monotonic() < deadline, fleet.logs()
            time.sleep(0.2)
        assert beat["in_frame_s"] >= 2  # rounded to 0.1 s; stuck means over 2 s
        # Its only worker stuck, the fleet cannot answer: the producer falls back, within
        # a heartbeat interval (0.5 s) plus its cached liveness answer (1 s).
        stuck_at = time.monotonic()
        ticket = wait_until(
            lambda: (t := producer.submit("other-cam", photo(CAT))).fallback is not None and t,
            timeout=5,
            what="a fallback",
        )
        assert time.monotonic() - stuck_at < 0.5 + 1.0 + 0.5
        assert ticket.fallback is not None
        assert ticket.fallback.error == "every live worker is stuck in a detection"
        assert int(client.hget(keys.COUNTERS, "fallback:stuck") or 0) >= 1

        # A real Prometheus scraping /metrics takes both alerts to firing: the stuck
        # worker, and the fallbacks (the frames keep coming, the fleet cannot answer).
        def firing() -> bool:
            producer.submit("other-cam", photo(CAT))  # a camera at ~10 fps meanwhile
            alerts = prometheus.get("/api/v1/alerts")["alerts"]
            names = {a["labels"]["alertname"] for a in alerts if a["state"] == "firing"}
            return {"Is21WorkerStuck", "Is21FallingBack"} <= names

        wait_until(firing, timeout=60 + 30, what="the stuck and fallback alerts firing")
        status, body = health.json("/healthz")
        assert status == 503 and body["status"] == "degraded", body
        assert "hang0" in body["reason"] and body["problems"][0]["stuck"]
        pings(0.6)  # drain a ping sent just before the timeout passed
        assert pings(2) == 0  # stuck: systemd would now restart it
        assert fleet.procs[0].poll() is None
    finally:
        for p in fleet.procs:
            p.kill()
            p.wait()
        notify.close()


def test_a_detector_that_throws_gives_error_results_and_the_worker_goes_on(
    client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    """A model whose output does not match its manifest (3 classes out, 2 labels): every
    inference raises in the output decoding; each frame gets an error result."""
    from tests.unit.test_yolov8 import constant_yolov8_model

    models = tmp_path / "models"
    models.mkdir()
    constant_yolov8_model(models / "bad.onnx")
    digest = hashlib.sha256((models / "bad.onnx").read_bytes()).hexdigest()
    (models / "manifest.toml").write_text(
        '[[detector]]\nname = "bad"\nfile = "bad.onnx"\n'
        f'sha256 = "{digest}"\n'
        'backend = "onnx"\nformat = "yolov8"\ninput_size = [64, 64]\n'
        'labels = ["person", "dog"]\n'
    )
    env = fleet_env(
        settings.redis_url or "",
        IS21_MODEL_DIR=str(models),
        IS21_MANIFEST=str(models / "manifest.toml"),
    )
    fleet = Fleet(settings.redis_url or "", env, [], tmp_path)
    fleet.start("throws0")
    fleet.wait_alive(client, 1)
    producer = FrameProducer(client, settings)
    try:
        for _ in range(3):
            ticket = producer.submit("throw-cam", photo("COCO_val2014_000000181586.jpg"))
            result = producer.wait(ticket, timeout=20)
            assert result.status == "error" and "detector failed" in (result.error or "")
        assert fleet.procs[0].poll() is None
        deadline = time.monotonic() + 10  # the next beat carries the counts
        while True:
            raw: Any = client.get(keys.heartbeat("throws0"))
            beat = json.loads(raw or b"{}")
            if beat.get("frames_failed", 0) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert beat["frames_failed"] >= 3 and not beat["stuck"]
    finally:
        assert fleet.stop() == [0]
