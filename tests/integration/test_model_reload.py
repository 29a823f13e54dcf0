"""Hot model reload under a running replay; a bad model is refused and shown."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from is21.ops.health import HealthApp
from is21.ops.models import install_model
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings
from is21.workers.manifest import REPO_MANIFEST, load_manifest, write_manifest
from is21.workers.sample_check import sample_jpeg
from tests.conftest import MODEL_DIR, Fleet
from tests.helpers import counters, results_of, wait_settled
from tests.samples import photo
from tests.unit.test_models_cli import retrained

OLD_SHA = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14"


def deploy(tmp_path: Path) -> tuple[Path, Path]:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(MODEL_DIR / "yolox_nano.onnx", models / "yolox_nano.onnx")
    shutil.copyfile(REPO_MANIFEST, models / "manifest.toml")
    return models / "manifest.toml", models


def heartbeat(client: redis.Redis, name: str) -> dict[str, Any]:
    raw: Any = client.get(keys.heartbeat(name))
    return dict(json.loads(raw))


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_reload_under_replay_loses_and_fails_nothing(
    tmp_path: Path,
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
) -> None:
    manifest, models = deploy(tmp_path)
    fleet = fleet_factory(
        2, IS21_MODEL_DIR=str(models), IS21_MANIFEST=str(manifest), IS21_HEARTBEAT_INTERVAL="0.5"
    )
    cams = [f"rl{i}" for i in range(4)]
    stop = threading.Event()
    jpeg = photo("COCO_val2014_000000181013.jpg")

    def replay() -> None:
        while not stop.is_set():
            for cam in cams:
                producer.submit(cam, jpeg)
            time.sleep(0.05)

    feeder = threading.Thread(target=replay)
    feeder.start()
    try:
        time.sleep(1.0)
        new = install_model(manifest, models, retrained(tmp_path), "yolox-nano-coco", sample_jpeg())
        for p in fleet.procs:
            p.send_signal(signal.SIGHUP)
        wait_for(
            lambda: all(
                heartbeat(client, w)["models"][0]["sha256"] == new.sha256 for w in ("w0", "w1")
            )
        )
        time.sleep(1.0)  # keep replaying on the new model
    finally:
        stop.set()
        feeder.join()
    wait_settled(client, cams)
    shas = set()
    for cam in cams:
        c = counters(client, cam)
        assert c.get("failed", 0) == 0 and c.get("expired", 0) == 0
        results = results_of(client, cam)
        assert all(r.status == "ok" and r.primary_event == "human" for r in results)
        shas |= {r.model_sha256 for r in results}
    assert shas == {OLD_SHA, new.sha256}  # both models served, none in between
    assert all(p.poll() is None for p in fleet.procs)


def test_a_corrupt_model_is_refused_on_reload_and_shown(
    tmp_path: Path,
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    settings: Settings,
) -> None:
    manifest, models = deploy(tmp_path)
    fleet = fleet_factory(
        1, IS21_MODEL_DIR=str(models), IS21_MANIFEST=str(manifest), IS21_HEARTBEAT_INTERVAL="0.5"
    )
    broken = load_manifest(manifest)
    (models / "broken.onnx").write_bytes(b"\x08\x07 not a model")
    broken.detector[0] = broken.detector[0].model_copy(
        update={"file": "broken.onnx", "sha256": "0" * 64}
    )
    write_manifest(manifest, broken)
    fleet.procs[0].send_signal(signal.SIGHUP)
    wait_for(lambda: bool(heartbeat(client, "w0").get("model_error")))
    beat = heartbeat(client, "w0")
    assert "broken.onnx" in beat["model_error"] and beat["models"][0]["sha256"] == OLD_SHA
    result = producer.wait(
        producer.submit("after", photo("COCO_val2014_000000181586.jpg")), timeout=20
    )
    assert result.status == "ok" and result.model_sha256 == OLD_SHA  # old model serves on
    status, body = HealthApp(client, settings).healthz()
    assert status == 200 and body["problems"][0].startswith("w0: ")
    assert "broken.onnx" in body["problems"][0]


def test_a_worker_that_cannot_start_is_shown(
    tmp_path: Path, client: redis.Redis, fleet_factory: Callable[..., Fleet], settings: Settings
) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT, fleet_env

    env = fleet_env(settings.effective_redis_url, IS21_MODEL_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "is21.ops", "worker", "--name", "dead"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    status, body = HealthApp(client, settings).healthz()
    assert status == 503 and "yolox_nano.onnx not found" in body["reason"]
    assert body["problems"][0].startswith("dead: ")
