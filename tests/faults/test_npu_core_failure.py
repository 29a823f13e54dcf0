"""An NPU core that fails in the field: RKNNLite on cores 1 and 2 answers "failed to
submit" and no outputs while core 0 works (airockchip/rknn-toolkit2 issue 294).

Real worker processes run the rknn backend on a stand-in ``rknnlite`` package (there is
no NPU here): core 0 runs the real YOLOX-nano through onnxruntime, cores 1 and 2 fail as
the issue describes. The worker on core 1 must say so and exit non-zero for systemd to
restart it; the cameras it served are served by core 0's worker."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import redis

from is21.producer import FrameProducer
from is21.schemas.results import Result
from is21.workers.core_health import EXIT_CODE, CoreHealth
from is21.workers.manifest import REPO_MANIFEST
from tests.conftest import MODEL_DIR, Fleet, run_is21
from tests.samples import photo

STANDIN = """
import os
import sys
import numpy as np
import onnxruntime as ort


class RKNNLite:
    NPU_CORE_AUTO, NPU_CORE_0, NPU_CORE_1, NPU_CORE_2, NPU_CORE_0_1_2 = 0, 1, 2, 4, 7

    def __init__(self, verbose=False):
        self.session, self.mask, self.runs = None, None, 0

    def load_rknn(self, path):
        self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return 0

    def init_runtime(self, core_mask=0):
        self.mask = core_mask
        return 0

    def inference(self, inputs):
        self.runs += 1
        failing = (self.NPU_CORE_1, self.NPU_CORE_2)
        if self.mask in failing and self.runs > int(os.environ["FAIL_AFTER"]):
            print("E RKNN: failed to submit!, op id: 1, op name: Conv", file=sys.stderr)
            return None
        nchw = inputs[0].transpose(0, 3, 1, 2).astype(np.float32)
        return self.session.run(None, {self.session.get_inputs()[0].name: nchw})

    def release(self):
        self.session = None
"""


def standin(tmp_path: Path) -> dict[str, str]:
    """The stand-in runtime on PYTHONPATH, this host passed off as the board's aarch64."""
    site = tmp_path / "standin"
    (site / "rknnlite").mkdir(parents=True)
    (site / "rknnlite" / "__init__.py").write_text("")
    (site / "rknnlite" / "api.py").write_text(STANDIN)
    (site / "sitecustomize.py").write_text(
        "import platform\nplatform.machine = lambda: 'aarch64'\n"
    )
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(MODEL_DIR / "yolox_nano.onnx", models / "yolox_nano.onnx")
    manifest = REPO_MANIFEST.read_text().replace('backend = "onnx"', 'backend = "rknn"')
    (models / "manifest.toml").write_text(manifest)
    return {
        "PYTHONPATH": str(site),
        "IS21_BACKEND": "rknn",
        "IS21_MODEL_DIR": str(models),
        "IS21_MANIFEST": str(models / "manifest.toml"),
        "IS21_HEARTBEAT_INTERVAL": "0.5",
        # Cores 1 and 2 fail from their second inference: the first is the start check.
        "FAIL_AFTER": "1",
    }


def test_a_failed_core_reports_exits_and_its_cameras_are_served(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    client: redis.Redis,
    tmp_path: Path,
) -> None:
    fleet = fleet_factory(0, **standin(tmp_path))
    good = fleet.start_args("--npu-core", "0", "--name", "board.npu0")
    bad = fleet.start_args("--npu-core", "1", "--name", "board.npu1")
    fleet.wait_alive(client, 2)
    cams = [f"cam{i}" for i in range(4)]
    results: list[Result] = []

    def round_() -> None:
        tickets = [producer.submit(cam, photo("COCO_val2014_000000181013.jpg")) for cam in cams]
        results.extend(producer.wait(t, timeout=30) for t in tickets)

    # Rounds until core 1's worker has exited after its third failure in a row (how many
    # of the frames it gets, and when, is for the dispatcher and the change gate to
    # decide), each followed by up to a second's wait for that exit; then two rounds with
    # core 0 alone.
    for _ in range(20):
        round_()
        deadline = time.monotonic() + 1.0
        while bad.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if bad.poll() is not None:
            break
    assert bad.poll() is not None, f"core 1's worker did not exit: {fleet.logs()}"
    round_()
    round_()
    assert bad.returncode == EXIT_CODE, fleet.logs()
    assert good.poll() is None
    # Every frame was answered: the few core 1 took, as errors that name the core.
    failed = [r for r in results if r.status == "error"]
    assert 1 <= len(failed) <= 3, [(r.worker, r.error) for r in failed]
    assert all(r.worker == "board.npu1" and "NPU core 1" in (r.error or "") for r in failed)
    ok = [r for r in results if r.status == "ok"]
    assert all(r.primary_event == "human" for r in ok)
    assert {r.worker for r in results[-len(cams) * 2 :]} == {"board.npu0"}
    status = run_is21("status", "--json", env=fleet.env)
    problems = json.loads(status.stdout)["problems"]
    assert any(
        p["worker"] == "board.npu1" and "NPU core 1 failed 3 detections in a row" in p["error"]
        for p in problems
    ), problems
    logs = fleet.logs()
    assert "failed to submit" in logs and "stopping to be restarted" in logs


def test_a_core_that_fails_from_the_start_exits_before_it_says_ready(
    fleet_factory: Callable[..., Fleet], client: redis.Redis, tmp_path: Path
) -> None:
    fleet = fleet_factory(0, **{**standin(tmp_path), "FAIL_AFTER": "0"})
    bad = fleet.start_args("--npu-core", "1", "--name", "board.npu1")
    assert bad.wait(timeout=60) == EXIT_CODE
    logs = fleet.logs()
    assert "NPU core 1 cannot run the sample picture" in logs and "ready" not in logs, logs


def test_only_the_runtime_counts_and_a_success_clears_it() -> None:
    core = CoreHealth("NPU core 2")
    assert not core.record("no outputs") and not core.record("no outputs")
    assert not core.record(None)  # a detection that ran: the count starts again
    assert not core.record("no outputs") and not core.record("no outputs")
    assert core.record("no outputs") and core.failed is not None
    assert core.failed.startswith("NPU core 2 failed 3 detections in a row: no outputs")
    assert not core.record("no outputs")  # condemned once
