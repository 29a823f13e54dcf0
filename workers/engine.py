"""What a worker process keeps between dispatch jobs: its detectors (hot-swapped between
frames), the event schema in force, its heartbeat, and what it says of itself there.

The engine is what a dispatch job (``pipeline.py``) may ask of the worker, and nothing
more: claim, detect, publish with its outcome, release, wait. Every result leaves
through ``publish``, which says what Redis did with it.
"""

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
from is21.schemas import keys
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts, Next, Published
from is21.workers.core_health import CoreHealth
from is21.workers.detector import Detector
from is21.workers.frame import (
    Fault,
    Inputs,
    Served,
    after_frame,
    decode_ahead,
    log_result,
    run_frame,
)
from is21.workers.heartbeat import Heartbeat
from is21.workers.incidents.follow import Followed
from is21.workers.pipeline import Pipeline, wait_for_redis
from is21.workers.reload import ModelReloader
from is21.workers.reservation import ReservationPolicy
from is21.workers.stats import WorkerStats

log = logging.getLogger(__name__)

FAILING_AFTER = 3  # frames in a row a detector fails before the worker says so


class Engine:
    """``after_beat``: what the heartbeat thread checks after each beat (by default that
    dispatch has its jobs); ``on_core_failed``: what a failed runtime does (by default,
    stop serving); ``reloader``: where reloaded models come from (SIGHUP), if anywhere."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        detectors: list[Detector],
        worker_name: str,
        *,
        npu_core: str | None = None,
        schema: EventSchema = DEFAULT_SCHEMA,
        after_beat: Callable[[], None] | None = None,
        on_core_failed: Callable[[str], None] | None = None,
        reloader: ModelReloader | None = None,
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
        self.on_core_failed = on_core_failed or (lambda _reason: self.stopping.set())
        self.reloader = reloader
        self.heartbeat = Heartbeat(
            client,
            worker_name,
            self.status,
            ttl=settings.heartbeat_ttl,
            interval=settings.heartbeat_interval,
            after_beat=after_beat or self.dispatcher.ensure_jobs,
            healthy=lambda: not self.stuck() and self.core.failed is None,
            protocol=settings.protocol_fields(),
        )
        # Publishes, claims and decodes the next frame while one is inferred (pipeline).
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="is21-ahead")
        self.schema_cache = (
            SchemaCache(client, settings.state_dir / "schema.json") if settings.state_dir else None
        )
        self._busy_since: float | None = None  # monotonic start of the detection in hand
        # A model that passed its start check and now fails every frame: said in the
        # heartbeat (a problem in /healthz) until a frame succeeds again.
        self._failures_in_a_row = 0
        self.detector_failing: str | None = None
        self._bad_schema_version: str | None = None

    @property
    def model(self) -> str:
        return "+".join(d.spec.name for d in self.detectors)

    @property
    def model_sha256(self) -> str:
        return "+".join(d.spec.sha256 for d in self.detectors)

    def serve(self, job_id: str) -> dict[str, Any]:
        """One dispatch job: serve frames until its budget is spent or the worker stops."""
        return Pipeline(self, job_id, self.settings.job_budget, self.helper).run()

    # What a dispatch job asks of the worker (pipeline.Frames).

    def claim(self, job_id: str, likely: str | None) -> Next:
        return self.scripts.claim_ahead(job_id, likely, self.reservation.lease_ms)

    def idle(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` for a camera to become ready; the one whose frame woke
        this job, if one did. Reloaded models go into service meanwhile."""
        woke: Any = self.client.blpop([keys.WAKE], timeout=timeout)
        self.swap_models()
        return woke[1].decode() if woke else None

    def prepare(self, claim: Claim) -> None:
        """Between frames: the models a reload finished, the schema the frame names."""
        self.swap_models()
        self.follow_schema(claim.schema_version)

    def decode(self, claim: Claim) -> Inputs | None:
        return decode_ahead(self, claim)

    def detect(self, claim: Claim, held_ms: float = 0.0, inputs: Inputs | None = None) -> Served:
        """The frame through every detector, timed for the heartbeat's stuck check."""
        self._busy_since = time.monotonic()
        try:
            served = run_frame(self, claim, held_ms, inputs)
        finally:
            self._busy_since = None
        if served.result.gated:  # the detectors did not run: it says nothing of them
            return served
        error = served.result.error
        if served.fault is Fault.DETECTOR or served.fault is Fault.RUNTIME:
            self._failures_in_a_row += 1
            if self._failures_in_a_row >= FAILING_AFTER:
                self.detector_failing = error
        else:
            self._failures_in_a_row, self.detector_failing = 0, None
        runtime_error = error if served.fault is Fault.RUNTIME else None
        if self.core.record(runtime_error) and self.core.failed is not None:
            log.error("%s: stopping to be restarted", self.core.failed)
            self.on_core_failed(self.core.failed)
        return served

    def publish(
        self,
        job_id: str,
        served: Served | None,
        *,
        claim: str | None = None,
        release: str | None = None,
    ) -> Next:
        """The one way a result leaves: stored, with ``release`` given back, or stored
        together with the claim of ``claim``'s newest frame (one round trip); what Redis
        did with it is counted and logged (``report``)."""
        with self.stats.tracking():
            followed, looked = after_frame(self.schema, served)
        if claim is None:
            if served is not None:
                published = self.scripts.publish(job_id, served.result, release, followed, looked)
                self.report(served, published, followed)
            return Next(None, None)
        result, lease_ms = (served.result if served else None), self.reservation.lease_ms
        outcome, claimed = self.scripts.publish_and_claim(
            job_id, result, claim, lease_ms, followed, looked
        )
        if served is not None and outcome is not None:
            self.report(served, outcome, followed)
        return claimed

    def release(self, job_id: str, camera: str) -> None:
        self.scripts.release(job_id, camera)

    @property
    def core_failed(self) -> bool:
        return self.core.failed is not None

    def frame_done(self, served: Served, wall_ms: float, overlapped_ms: float) -> None:
        """``wall_ms`` claim to claim, ``overlapped_ms`` of it decoding ahead, beside."""
        self.reservation.record(wall_ms)
        result = served.result
        dispatch_ms = wall_ms - (result.processing_ms - overlapped_ms)
        self.stats.record(result.status == "ok", result.processing_ms, dispatch_ms)

    def redis_refused(self) -> None:
        self.stats.redis_errors += 1

    def reconnect(self) -> bool:
        return wait_for_redis(self.client, self.stopping)

    def hand_over(self, job_id: str) -> None:
        """The job ends: a stopping worker leaves the live set first, so the successor the
        job reserves is sized without it."""
        if self.stopping.is_set():
            self.heartbeat.stop()
        try:
            self.dispatcher.ensure_jobs(leaving=job_id)
        except redis.RedisError as exc:  # the heartbeat thread asks again after its beat
            log.warning("could not hand over dispatch: %s", exc)

    # The rest: the worker's own bookkeeping.

    def report(
        self,
        served: Served,
        outcome: tuple[Published, str | None],
        followed: Followed | None = None,
    ) -> None:
        """What became of a result: counted, and only a stored one logged as a result,
        with the incident messages that went out with it."""
        result, (what, why) = served.result, outcome
        if what is Published.STORED:
            log_result(served, followed)
            return
        context = {"camera_id": result.camera_id}
        if what is Published.STALE:
            self.stats.results_stale += 1
            log.warning(
                "result of %s/%s dropped as stale: this worker's claim had lapsed and the "
                "frame was accounted for again",
                result.camera_id,
                result.seq,
                extra=context,
            )
        else:
            self.stats.results_refused += 1
            log.error(
                "result of %s/%s not stored, the frame counted failed: Redis refused it: %s",
                result.camera_id,
                result.seq,
                why,
                extra={**context, "error": why},
            )

    def swap_models(self) -> None:
        """Between frames: put detectors a reload has finished loading into service."""
        new = self.reloader.take() if self.reloader else None
        if new is None:
            return
        old, self.detectors = self.detectors, new
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
