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
import pytest
import redis
from onnx import TensorProto, helper, numpy_helper

from is21.ops.fleet_state import live_workers
from is21.ops.problems import read_worker_errors, worker_problems
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import Fleet, Health, Prometheus, fleet_env
from tests.helpers import wait_until
from tests.samples import photo

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)

NC = 2
CAT = "COCO_val2014_000000181586.jpg"


# is_photo (int64, 0 or 1) from images [1, 3, 64, 64] and m = ReduceMax(images): the
# largest step between neighbouring pixels, over the brightest pixel, is ~0.02 in the
# smooth gradient every model runs at a worker's start (workers/sample_check.py) and
# 0.3-0.6 in a photo.
PHOTO_GATE = [
    helper.make_node("Slice", ["images", "one", "end", "axis"], ["right"]),
    helper.make_node("Slice", ["images", "zero_i", "last", "axis"], ["left"]),
    helper.make_node("Sub", ["right", "left"], ["step"]),
    helper.make_node("Abs", ["step"], ["steps"]),
    helper.make_node("ReduceMax", ["steps"], ["texture"], keepdims=0),
    helper.make_node("Div", ["texture", "m"], ["contrast"]),
    helper.make_node("Greater", ["contrast", "threshold"], ["photo"]),
    helper.make_node("Cast", ["photo"], ["is_photo"], to=TensorProto.INT64),
]


def photo_gate_initializers() -> list[Any]:
    return [
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([0], np.int64), "zero_i"),
        numpy_helper.from_array(np.array([64], np.int64), "end"),
        numpy_helper.from_array(np.array([63], np.int64), "last"),
        numpy_helper.from_array(np.array([3], np.int64), "axis"),
        numpy_helper.from_array(np.array(0.1, np.float32), "threshold"),
    ]


def photo_breaking_yolov8_model(path: Path) -> None:
    """A yolov8-shaped model that answers the start check's sample with 4 + NC rows and a
    photo with twice as many, which no decoder of its manifest takes: a model that passes
    its check and then fails every frame."""
    base = np.zeros((1, 4 + NC, 4), np.float32)
    nodes = [
        helper.make_node("ReduceMax", ["images"], ["m"], keepdims=0),
        *PHOTO_GATE,
        helper.make_node("Add", ["is_photo", "one"], ["rows"]),
        helper.make_node("Concat", ["one", "rows", "one"], ["repeats"], axis=0),
        helper.make_node("Tile", ["base", "repeats"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "breaks",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, None, 4])],
        initializer=[numpy_helper.from_array(base, "base"), *photo_gate_initializers()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


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
        *PHOTO_GATE,  # only a photo hangs it, not the start check's sample
        helper.make_node("Mul", ["is_photo", "iterations"], ["trips"]),
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
            numpy_helper.from_array(np.array(iterations, np.int64), "iterations"),
            *photo_gate_initializers(),
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
        assert "hang0" in body["reason"] and "stuck" in body["problems"][0]
        pings(0.6)  # drain a ping sent just before the timeout passed
        assert pings(2) == 0  # stuck: systemd would now restart it
        assert fleet.procs[0].poll() is None
    finally:
        for p in fleet.procs:
            p.kill()
            p.wait()
        notify.close()


def deploy(tmp_path: Path, make: Callable[[Path], None]) -> tuple[Path, Path]:
    models = tmp_path / "models"
    models.mkdir()
    make(models / "bad.onnx")
    digest = hashlib.sha256((models / "bad.onnx").read_bytes()).hexdigest()
    (models / "manifest.toml").write_text(
        '[[detector]]\nname = "bad"\nfile = "bad.onnx"\n'
        f'sha256 = "{digest}"\n'
        'backend = "onnx"\nformat = "yolov8"\ninput_size = [64, 64]\n'
        'labels = ["person", "dog"]\n'
    )
    return models, models / "manifest.toml"


def test_a_model_that_cannot_run_the_sample_stops_the_worker_at_start(
    client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    """Issue 28, bug 6: a valid ONNX file with the wrong output shape and the right sha256
    (3 classes out, 2 labels): the worker said "ready" and answered every frame with an
    error, /healthz 200. It now runs verify's sample check first and exits, saying why."""
    from tests.unit.test_yolov8 import constant_yolov8_model

    models, manifest = deploy(tmp_path, constant_yolov8_model)
    env = fleet_env(
        settings.redis_url or "", IS21_MODEL_DIR=str(models), IS21_MANIFEST=str(manifest)
    )
    fleet = Fleet(settings.redis_url or "", env, [], tmp_path)
    worker = fleet.start("bad0")
    assert worker.wait(timeout=60) == 2
    logs = fleet.logs()
    assert "worker did not start: model bad: bad.onnx fails on the sample picture" in logs, logs
    assert "ready" not in logs
    problems = [
        p["error"]
        for p in worker_problems(live_workers(client), read_worker_errors(client))
        if p.get("worker") == "bad0"
    ]
    assert problems and "fails on the sample picture" in problems[0], problems


def test_a_detector_that_fails_every_frame_later_makes_its_worker_a_problem(
    client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    """A model that passes the start check and then fails every photo: each frame gets an
    error result, the worker goes on, and after three in a row its heartbeat says so
    (a problem in /healthz, model_loaded false) until a frame succeeds."""
    models, manifest = deploy(tmp_path, photo_breaking_yolov8_model)
    env = fleet_env(
        settings.redis_url or "",
        IS21_MODEL_DIR=str(models),
        IS21_MANIFEST=str(manifest),
        IS21_HEARTBEAT_INTERVAL="0.5",
    )
    fleet = Fleet(settings.redis_url or "", env, [], tmp_path)
    fleet.start("breaks0")
    fleet.wait_alive(client, 1)
    producer = FrameProducer(client, settings)
    try:
        for _ in range(3):
            ticket = producer.submit("throw-cam", photo("COCO_val2014_000000181586.jpg"))
            result = producer.wait(ticket, timeout=20)
            assert result.status == "error" and "detector failed" in (result.error or "")
        assert fleet.procs[0].poll() is None

        def beat() -> dict[str, Any]:
            raw: Any = client.get(keys.heartbeat("breaks0"))
            return dict(json.loads(raw or b"{}"))

        wait_until(lambda: beat().get("detector_failing"), what="the heartbeat saying so")
        assert beat()["frames_failed"] >= 3 and not beat()["stuck"]
        assert beat()["model_loaded"] is False
        problems = [
            p["error"]
            for p in worker_problems(live_workers(client), read_worker_errors(client))
            if p["worker"] == "breaks0"
        ]
        assert problems and "its detector fails every frame: detector failed" in problems[0]
    finally:
        assert fleet.stop() == [0]
