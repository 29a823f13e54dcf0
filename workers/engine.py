"""What a worker process keeps between dispatch jobs: its detectors (hot-swapped between
frames), the event schema in force, its heartbeat, and what it says of itself there."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis

from is21.protocol.dispatch import Dispatcher
from is21.protocol.schema_store import SchemaCache, SchemaError, load_schema
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts, Next, Published
from is21.workers.core_health import CoreHealth
from is21.workers.detector import Detector
from is21.workers.frame import DETECTOR_FAILED, RUNTIME_FAILED, Inputs, log_result, run_frame
from is21.workers.heartbeat import Heartbeat
from is21.workers.pipeline import Pipeline
from is21.workers.reload import ModelReloader
from is21.workers.reservation import ReservationPolicy
from is21.workers.stats import WorkerStats

log = logging.getLogger(__name__)

FAILING_AFTER = 3  # frames in a row a detector fails before the worker says so


class Engine:
    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        detectors: list[Detector],
        worker_name: str,
        schema: EventSchema = DEFAULT_SCHEMA,
        npu_core: str | None = None,
    ) -> None:
        self.client, self.settings, self.detectors = client, settings, detectors
        self.worker_name, self.schema, self.npu_core = worker_name, schema, npu_core
        self.dispatcher = Dispatcher(client, settings)
        self.scripts = ClaimScripts(client, settings)
        self.stopping = threading.Event()
        self.stats = WorkerStats()
        self.reservation = ReservationPolicy()
        runtime = ",".join(sorted({d.backend.name for d in detectors}))
        self.core = CoreHealth(f"NPU core {npu_core}" if npu_core is not None else runtime)
        self.on_core_failed: Callable[[str], None] = lambda _reason: self.stopping.set()
        self.model = "+".join(d.spec.name for d in detectors)
        self.model_sha256 = "+".join(d.spec.sha256 for d in detectors)
        self.heartbeat = Heartbeat(
            client,
            worker_name,
            self.status,
            ttl=settings.heartbeat_ttl,
            interval=settings.heartbeat_interval,
            after_beat=self.dispatcher.ensure_jobs,
            healthy=lambda: not self.stuck() and self.core.failed is None,
            protocol=settings.protocol_fields(),
        )
        # Publishes, claims and decodes the next frame while one is inferred (pipeline).
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="is21-ahead")
        self.reloader: ModelReloader | None = None
        self.schema_cache = (
            SchemaCache(client, settings.state_dir / "schema.json") if settings.state_dir else None
        )
        self._busy_since: float | None = None  # monotonic start of the detection in hand
        # A model that passed its start check and now fails every frame: said in the
        # heartbeat (a problem in /healthz) until a frame succeeds again.
        self._failures_in_a_row = 0
        self.detector_failing: str | None = None
        self._bad_schema_version: str | None = None

    def serve(self, job_id: str) -> dict[str, Any]:
        """One dispatch job: serve frames until its budget is spent or the worker stops."""
        return Pipeline(self, job_id).run()

    def detect(self, claim: Claim, held_ms: float = 0.0, inputs: Inputs | None = None) -> Result:
        """The frame through every detector, timed for the heartbeat's stuck check."""
        self._busy_since = time.monotonic()
        try:
            result = run_frame(self, claim, held_ms, inputs)
        finally:
            self._busy_since = None
        if (result.error or "").startswith(DETECTOR_FAILED):
            self._failures_in_a_row += 1
            if self._failures_in_a_row >= FAILING_AFTER:
                self.detector_failing = result.error
        else:
            self._failures_in_a_row, self.detector_failing = 0, None
        failed = result.error if (result.error or "").startswith(RUNTIME_FAILED) else None
        if self.core.record(failed) and self.core.failed is not None:
            log.error("%s: stopping to be restarted", self.core.failed)
            self.on_core_failed(self.core.failed)
        return result

    def publish(self, job_id: str, result: Result, release: str | None = None) -> None:
        self.report(result, self.scripts.publish(job_id, result, release))

    def publish_and_claim(self, job_id: str, result: Result | None, reserved: str | None) -> Next:
        outcome, claimed = self.scripts.publish_and_claim(
            job_id, result, reserved, self.reservation.lease_ms
        )
        if result is not None and outcome is not None:
            self.report(result, outcome)
        return claimed

    def report(self, result: Result, outcome: tuple[Published, str | None]) -> None:
        """What became of a result, in the log: only a stored one is logged as a result."""
        what, why = outcome
        if what is Published.STORED:
            log_result(result)
        elif what is Published.STALE:
            log.warning(
                "result of %s/%s dropped as stale: this worker's claim had lapsed and the "
                "frame was accounted for again",
                result.camera_id,
                result.seq,
                extra={"camera_id": result.camera_id},
            )
        else:
            log.error(
                "result of %s/%s not stored, the frame counted failed: Redis refused it: %s",
                result.camera_id,
                result.seq,
                why,
                extra={"camera_id": result.camera_id, "error": why},
            )

    def swap_models(self) -> None:
        """Between frames: put detectors a reload has finished loading into service."""
        new = self.reloader.take() if self.reloader else None
        if new is None:
            return
        old, self.detectors = self.detectors, new
        self.model = "+".join(d.spec.name for d in new)
        self.model_sha256 = "+".join(d.spec.sha256 for d in new)
        for det in old:
            det.backend.close()
        log.info("models reloaded: %s (%s)", self.model, self.model_sha256)

    def follow_schema(self, version: str) -> None:
        """Switch to the schema version in force in Redis; keep the current one if bad."""
        if version == self.schema.version or version == self._bad_schema_version:
            return
        if version == "":
            self.schema = DEFAULT_SCHEMA
            return
        try:
            self.schema = load_schema(self.client)
            log.info("event schema %s in use", self.schema.version)
        except SchemaError as exc:
            self._bad_schema_version = version
            log.warning(
                "stored event schema %s refused, keeping %s: %s", version, self.schema.version, exc
            )

    def in_frame_s(self) -> float | None:
        busy = self._busy_since
        return None if busy is None else time.monotonic() - busy

    def stuck(self) -> bool:
        """A detection running past IS21_INFER_TIMEOUT: a hung runtime or NPU driver."""
        busy = self.in_frame_s()
        return busy is not None and busy > self.settings.infer_timeout

    def status(self) -> dict[str, Any]:
        """What the heartbeat says of this worker (/healthz, is21 status, /metrics)."""
        return {
            "worker": self.worker_name,
            "backend": ",".join(sorted({d.backend.name for d in self.detectors})),
            "models": [{"name": d.spec.name, "sha256": d.spec.sha256} for d in self.detectors],
            # False while every frame fails: /healthz is 503 when no live worker serves.
            "model_loaded": self.detector_failing is None,
            "detector_failing": self.detector_failing,
            "model_error": self.reloader.error if self.reloader else None,
            "schema_version": self.schema.version,
            "host": socket.gethostname(),
            "npu_core": self.npu_core,
            "beat_at": round(time.time(), 3),
            "pid": os.getpid(),
            "in_frame_s": None if (busy := self.in_frame_s()) is None else round(busy, 1),
            "stuck": self.stuck(),
            "core_failed": self.core.failed,
            **self.stats.as_dict(),
        }
