"""``is21 worker``: load and check the models, wire the worker, serve until stopped.

``build_worker`` is the one place a worker is put together (engine, dispatch, heartbeat,
reloads, signals); everything it wires is a constructor argument or a public RQ method.
"""

from __future__ import annotations

import logging
import os
import signal
import socket

import redis
from rq.serializers import JSONSerializer

from is21.protocol.connection import connect, eviction_risk
from is21.protocol.functions import load_library
from is21.schemas.settings import Settings
from is21.workers.backends import InferenceFailed
from is21.workers.backends.rknn import BackendUnavailable
from is21.workers.core_health import CoreFailed
from is21.workers.detector import Detector, detectors_from_settings
from is21.workers.engine import Engine
from is21.workers.manifest import ModelError
from is21.workers.reload import ModelReloader
from is21.workers.sample_check import check_runs
from is21.workers.worker import FleetWorker, report_failure

log = logging.getLogger(__name__)


def default_worker_name(npu_core: str | None) -> str:
    """``rq info`` shows this name: it says which host and which core (or process)."""
    host = socket.gethostname()
    return f"{host}.npu{npu_core}" if npu_core is not None else f"{host}.pid{os.getpid()}"


def load_checked(settings: Settings, npu_core: str | None) -> list[Detector]:
    """The detectors, each run once on the sample picture (workers/sample_check.py): a
    model that cannot serve is refused before the worker says it is ready, or before a
    reload puts it in service. A runtime that cannot run at all is a failed core."""
    detectors = detectors_from_settings(settings, npu_core=npu_core)
    try:
        for det in detectors:
            check_runs(det)
    except ModelError as exc:
        for det in detectors:
            det.backend.close()
        if isinstance(exc.__cause__, InferenceFailed):
            where = f"NPU core {npu_core}" if npu_core is not None else settings.backend
            raise CoreFailed(f"{where} cannot run the sample picture: {exc}") from exc
        raise
    return detectors


def build_worker(
    client: redis.Redis,
    settings: Settings,
    detectors: list[Detector],
    *,
    name: str,
    queue: str,
    npu_core: str | None,
    reloader: ModelReloader,
) -> FleetWorker:
    """The worker and its engine, wired: the heartbeat's after-beat checks and a failed
    core go to the worker (RQ's registry, its stop), SIGHUP to the reloader. RQ installs
    its SIGTERM/SIGINT handlers (``request_stop``) when ``work`` starts."""
    worker = FleetWorker([queue], connection=client, name=name, serializer=JSONSerializer)
    worker.engine = Engine(
        client,
        settings,
        detectors,
        name,
        npu_core=npu_core,
        after_beat=worker.after_beat,
        on_core_failed=worker.core_failed,
        reloader=reloader,
    )
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloader.request())
    return worker


def run_worker(
    settings: Settings,
    *,
    name: str | None = None,
    queue: str | None = None,
    burst: bool = False,
    npu_core: str | None = None,
) -> None:
    """Load and verify models (raises ModelError), then serve until stopped."""
    client = connect(settings.effective_redis_url)
    name = name or default_worker_name(npu_core)
    try:
        detectors = load_checked(settings, npu_core)
    except (ModelError, BackendUnavailable, CoreFailed) as exc:
        report_failure(client, name, str(exc))
        raise
    # This worker's own functions, whatever version a worker before it left in Redis.
    load_library(client)
    if risk := eviction_risk(client):
        log.warning(risk)
    reloader = ModelReloader(lambda: load_checked(settings, npu_core))
    queue = queue or settings.queue
    worker = build_worker(
        client, settings, detectors, name=name, queue=queue, npu_core=npu_core, reloader=reloader
    )
    engine = worker.engine
    reloader.start()
    try:
        worker.work(burst=burst, logging_level=settings.log_level.upper())
    except redis.RedisError as exc:
        if not engine.stopping.is_set():
            raise
        # Asked to stop, and stopped: only the goodbye failed. Its keys expire by themselves.
        log.warning("worker %s stopped without a goodbye: %s", name, exc)
    else:
        if engine.core.failed is not None:
            raise CoreFailed(engine.core.failed)
    finally:
        reloader.stop()
        engine.heartbeat.stop()
        for det in engine.detectors:  # an NPU context is released, not left to exit
            det.backend.close()
