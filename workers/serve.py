"""The dispatch job: serve ready cameras, newest frame first, until the budget is spent.

One RQ job serves many frames so RQ's bookkeeping is amortised; frames arrive through
Redis streams, never inside jobs. Every state change that involves more than one key
(claim a camera, publish and release it) is one Lua script, so a worker killed at any
instant leaves a state the next claim repairs.
"""

from __future__ import annotations

import logging
import os
import socket
import statistics
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import ValidationError
from redis.backoff import ExponentialWithJitterBackoff
from rq import get_current_job

from is21.protocol.connection import CONNECTION_ERRORS, is_out_of_memory
from is21.protocol.dispatch import Dispatcher
from is21.protocol.schema_store import SchemaError, load_schema
from is21.schemas import codec, keys
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from is21.schemas.frames import FrameMeta
from is21.schemas.results import NO_EVENT, Detection, Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts, Next
from is21.workers.detector import Detector, Timings
from is21.workers.heartbeat import Heartbeat
from is21.workers.image import ImageError, Letterbox, Prepared, prepare
from is21.workers.reload import ModelReloader
from is21.workers.stats import WorkerStats

log = logging.getLogger(__name__)

_META_FIELDS = {"captured_at", "request_id"}


class BadEntry(LookupError):
    """The claimed stream entry cannot be served (gone, no JPEG, too large)."""


@dataclass
class Inputs:
    """A claimed frame decoded into model inputs, and what decoding it took."""

    frame_id: str
    prepared: dict[Letterbox, Prepared] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)

    @staticmethod
    def of(inputs: Inputs | None, claim: Claim) -> Inputs:
        """The inputs decoded ahead if they are this claim's frame, else empty ones."""
        if inputs is None or inputs.frame_id != claim.frame_id:
            return Inputs(claim.frame_id)
        return inputs


class Engine:
    """Everything a worker process keeps between jobs: models, scripts, counters."""

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
        self.stopping = threading.Event()
        self.stats = WorkerStats()
        self.model = "+".join(d.spec.name for d in detectors)
        self.model_sha256 = "+".join(d.spec.sha256 for d in detectors)
        self.heartbeat = Heartbeat(
            client,
            worker_name,
            self.status,
            ttl=settings.heartbeat_ttl,
            interval=settings.heartbeat_interval,
            after_beat=self.dispatcher.ensure_jobs,
            healthy=lambda: not self.stuck(),
            protocol=settings.protocol_fields(),
        )
        self._busy_since: float | None = None  # monotonic start of the detection in hand
        self._frame_ms: deque[float] = deque(maxlen=15)  # recent claim-to-claim times
        # How long a camera this worker reserves waits for it: two of its recent frame
        # times (None: a camera lease). Past that the worker has stalled (the VM, a slow
        # frame, a hung NPU) and the camera goes, with its place in the queue, to whichever
        # worker claims next rather than wait out the stall. Set by the main thread, read
        # by the helper's claims.
        self.reserve_ms: int | None = None
        # Publishes, claims and decodes the next frame while one is inferred (serve_one).
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="is21-ahead")
        self.scripts = ClaimScripts(client, settings)
        self.reloader: ModelReloader | None = None
        self._bad_schema_version: str | None = None

    # -- one frame -------------------------------------------------------------------

    def detect(self, claim: Claim, held_ms: float = 0.0, inputs: Inputs | None = None) -> Result:
        """Run every detector on the frame; bad input becomes an error result, never a crash.

        ``inputs``: the frame already decoded by the helper thread, if it was.
        """
        inputs = Inputs.of(inputs, claim)
        timings = inputs.timings
        meta: FrameMeta | None = None
        detections: list[Detection] = []
        primary, error = NO_EVENT, None
        events: list[str] = []
        try:
            if claim.problem is not None:
                raise BadEntry(claim.problem)
            meta = self.frame_meta(claim)
            for det in self.detectors:
                detections.extend(
                    det.detect(claim.jpeg, self.settings.max_pixels, timings, inputs.prepared)
                )
            primary, events = self.schema.evaluate(detections, claim.camera_id)
        except (ImageError, codec.CodecError, BadEntry) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a detector fault must not take the worker down
            log.exception("detector failed on camera %s frame %s", claim.camera_id, claim.seq)
            error = f"detector failed: {type(exc).__name__}: {exc}"
        return Result(
            camera_id=claim.camera_id,
            frame_id=claim.frame_id,
            seq=claim.seq,
            status="ok" if error is None else "error",
            error=error,
            primary_event=primary,
            events=events,
            detections=detections if error is None else [],
            processing_ms=round(timings.total_ms, 2),
            queue_ms=claim.queue_ms,
            held_ms=round(held_ms, 2),
            skipped=claim.skipped,
            model=self.model,
            model_sha256=self.model_sha256,
            schema_version=self.schema.version,
            worker=self.worker_name,
            request_id=meta.request_id if meta else None,
            captured_at=meta.captured_at if meta else None,
            claimed_at=claim.claimed_at,
        )

    @staticmethod
    def frame_meta(claim: Claim) -> FrameMeta:
        """Metadata read back from Redis is untrusted: validate it like any input."""
        stored = codec.unpackb(claim.meta) if claim.meta else {}  # meta is optional
        if not isinstance(stored, dict):
            raise codec.CodecError("frame metadata is not a map")
        try:
            return FrameMeta(
                camera_id=claim.camera_id,
                seq=claim.seq,
                frame_id=claim.frame_id,
                **{k: v for k, v in stored.items() if k in _META_FIELDS},
            )
        except ValidationError as exc:
            raise codec.CodecError(f"invalid frame metadata: {exc}") from exc

    def publish(self, job_id: str, result: Result, release: str | None = None) -> None:
        self.scripts.publish(job_id, result, release)
        self.log_result(result)

    def publish_and_claim(self, job_id: str, result: Result | None, reserved: str | None) -> Next:
        claimed = self.scripts.publish_and_claim(job_id, result, reserved, self.reserve_ms)
        if result is not None:
            self.log_result(result)
        return claimed

    def claim_and_decode(
        self, job_id: str, done: Result | None, reserved: str
    ) -> tuple[Next, Inputs | None]:
        """The helper thread's work while a frame is inferred: publish the one before,
        claim and read the next, and decode it into the detectors' inputs."""
        hand = self.publish_and_claim(job_id, done, reserved)
        if not isinstance(hand.claim, Claim) or not hand.claim.jpeg:
            return hand, None
        inputs = Inputs(hand.claim.frame_id)
        t0 = time.perf_counter()
        try:
            for det in self.detectors:
                if det.letterbox not in inputs.prepared:
                    inputs.prepared[det.letterbox] = prepare(
                        hand.claim.jpeg, det.letterbox, self.settings.max_pixels
                    )
        except ImageError:
            return hand, None  # detect() meets the same error and makes it the result
        inputs.timings.decode_ms = (time.perf_counter() - t0) * 1000
        return hand, inputs

    def log_result(self, result: Result) -> None:
        # Events and errors at INFO; the quiet majority (no_event) at DEBUG: 30 cameras at
        # 5 fps would otherwise write 150 lines a second to the journal, and building a
        # JSON line costs ~0.17 ms of the frame.
        quiet = result.status == "ok" and not result.is_event
        level = logging.DEBUG if quiet else logging.INFO
        if not log.isEnabledFor(level):
            return
        log.log(
            level,
            "frame %s/%s: %s",
            result.camera_id,
            result.seq,
            result.primary_event,
            extra={
                "camera_id": result.camera_id,
                "primary_event": result.primary_event,
                "processing_ms": result.processing_ms,
                "request_id": result.request_id,
                "status": result.status,
                "error": result.error,
            },
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
            log.error(
                "stored event schema %s refused, keeping %s: %s", version, self.schema.version, exc
            )

    # -- one job ---------------------------------------------------------------------

    def serve(self, job_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.settings.job_budget
        served = 0
        # The frame to infer next (claimed, read, perhaps decoded) with the camera reserved
        # after it, and the last result when its publication rides on the next round trip
        # (only ever with a frame in hand).
        hand: Next = Next(None, None)
        done: Result | None = None
        inputs: Inputs | None = None
        woken_by: str | None = None  # the camera whose frame ended the last idle wait
        started = time.perf_counter()
        while hand.claim is not None or not self.finishing(deadline):
            try:
                if hand.claim is None:
                    started = time.perf_counter()
                    hand = self.scripts.claim_ahead(job_id, woken_by, self.reserve_ms)
                    woken_by = None
                    if hand.claim is None:
                        # Idle: sleep until a camera becomes ready, but wake at least every
                        # second to keep this job's lease fresh and notice a stop request.
                        left = max(deadline - time.monotonic(), 0.01)
                        woke: Any = self.client.blpop([keys.WAKE], timeout=min(1.0, left))
                        woken_by = woke[1].decode() if woke else None
                        self.swap_models()
                    continue
                if hand.claim == "retire":
                    # The job lost its lease: publish what was inferred, give back the
                    # reserved camera, end.
                    if done is not None:
                        self.publish(job_id, done, release=hand.reserved)
                    elif hand.reserved is not None:
                        self.scripts.release(job_id, hand.reserved)
                    return {"served": served, "retired": True}
                assert isinstance(hand.claim, Claim)
                hand, done, inputs = self.serve_one(job_id, hand, done, inputs, deadline, started)
                served += 1
                started = time.perf_counter()
            except CONNECTION_ERRORS as exc:
                # Redis went away. The frames in hand are dropped: after a blip their
                # leases run out and the next claim serves them again; after a restart
                # without persistence their cameras' state is gone anyway. The job never
                # fails on this: RQ's failure bookkeeping would need the missing Redis.
                log.warning("redis unreachable while serving: %s; waiting for it", exc)
                hand, done, inputs = Next(None, None), None, None
                if not wait_for_redis(self.client, self.stopping):
                    break
            except redis.ResponseError as exc:
                if not is_out_of_memory(exc):
                    raise
                # Full with noeviction: the result could not be written. Its lease runs
                # out and the frame is served again once there is room (or failed).
                log.error("redis is out of memory, result not published: %s", exc)
                hand, done, inputs = Next(None, None), None, None
                self.stopping.wait(1.0)
        if self.stopping.is_set():
            # Leave the live set first, so the handover sizes dispatch without this worker.
            self.heartbeat.stop()
        try:
            self.dispatcher.ensure_jobs(leaving=job_id)
        except redis.RedisError as exc:  # the heartbeat thread asks again after its beat
            log.warning("could not hand over dispatch: %s", exc)
        return {"served": served, "retired": False}

    def finishing(self, deadline: float) -> bool:
        return self.stopping.is_set() or time.monotonic() >= deadline

    def serve_one(
        self,
        job_id: str,
        hand: Next,
        done: Result | None,
        inputs: Inputs | None,
        deadline: float,
        started: float,
    ) -> tuple[Next, Result | None, Inputs | None]:
        """Infer the frame in hand while a helper thread publishes the result before it,
        claims and reads the reserved camera's newest frame and decodes it: the round
        trip and the JPEG decode of frame N+1 overlap the inference of frame N (ONNX
        Runtime and RKNN release the GIL while they infer). On the RK3588 that is the
        CPU work of the next frame done while the NPU works on this one.

        Returns the next hand; this frame's result if the next round trip is to publish
        it (a frame was claimed ahead), else None as it was published here; and the next
        frame's inputs if they were decoded ahead.
        """
        claim, reserved = hand
        assert isinstance(claim, Claim)
        self.swap_models()
        self.follow_schema(claim.schema_version)
        flight: Future[Any] | None = None
        ahead = None if self.finishing(deadline) else reserved  # the camera to claim ahead
        if ahead is not None:
            flight = self.helper.submit(self.claim_and_decode, job_id, done, ahead)
        elif done is not None:
            flight = self.helper.submit(self.publish, job_id, done)
        inputs = Inputs.of(inputs, claim)
        decoded_ahead_ms = inputs.timings.decode_ms
        self._busy_since = time.monotonic()
        try:
            held = (datetime.now(UTC) - claim.claimed_at).total_seconds() * 1000
            result = self.detect(claim, held, inputs)
        finally:
            self._busy_since = None
        answer: Any = flight.result() if flight is not None else None
        unused = None if ahead is not None else reserved  # a reservation no claim took up
        after: tuple[Next, Result | None, Inputs | None]
        if ahead is not None and answer[0].claim is not None:
            after = (answer[0], result, answer[1])  # claimed ahead (or told to retire)
        elif self.finishing(deadline):  # the reservation, unless a claim used it, goes back
            self.publish(job_id, result, release=unused)
            after = (Next(None, None), None, None)
        else:  # nothing claimed ahead: publish and claim on the critical path
            after = (self.publish_and_claim(job_id, result, unused), None, None)
        # Everything this frame cost the worker's critical path besides decode and
        # inference: round trips not overlapped, encoding, logging.
        wall_ms = (time.perf_counter() - started) * 1000
        self._frame_ms.append(wall_ms)
        if len(self._frame_ms) >= 3:
            self.reserve_ms = max(1, round(2 * statistics.median(self._frame_ms)))
        self.stats.record(
            result.status == "ok",
            result.processing_ms,
            wall_ms - (result.processing_ms - decoded_ahead_ms),
        )
        return after

    def in_frame_s(self) -> float | None:
        busy = self._busy_since
        return None if busy is None else time.monotonic() - busy

    def stuck(self) -> bool:
        """A detection running past IS21_INFER_TIMEOUT: a hung runtime or NPU driver."""
        busy = self.in_frame_s()
        return busy is not None and busy > self.settings.infer_timeout

    def status(self) -> dict[str, Any]:
        return {
            "worker": self.worker_name,
            "backend": ",".join(sorted({d.backend.name for d in self.detectors})),
            "models": [{"name": d.spec.name, "sha256": d.spec.sha256} for d in self.detectors],
            "model_loaded": True,
            "model_error": self.reloader.error if self.reloader else None,
            "schema_version": self.schema.version,
            "host": socket.gethostname(),
            "npu_core": self.npu_core,
            "beat_at": round(time.time(), 3),
            "pid": os.getpid(),
            "in_frame_s": None if (busy := self.in_frame_s()) is None else round(busy, 1),
            "stuck": self.stuck(),
            **self.stats.as_dict(),
        }


def wait_for_redis(client: redis.Redis, stopping: threading.Event) -> bool:
    """Ping with jittered exponential backoff (0.1 s doubling to 2 s) until Redis answers;
    False if the worker was asked to stop meanwhile."""
    backoff = ExponentialWithJitterBackoff(base=0.1, cap=2.0)
    failures = 0
    while not stopping.is_set():
        try:
            client.ping()
            log.info("redis reachable again")
            return True
        except redis.RedisError:
            failures += 1
            stopping.wait(backoff.compute(failures))
    return False


_engine: Engine | None = None


def install(engine: Engine | None) -> None:
    global _engine
    _engine = engine


def serve() -> dict[str, Any]:
    """The RQ job function. Runs only inside ``is21 worker``, which holds the models."""
    job = get_current_job()
    if _engine is None or job is None:
        raise RuntimeError(
            "is21.workers.serve.serve must run inside `is21 worker` "
            "(a plain `rq worker` has no models loaded)"
        )
    return _engine.serve(job.id)
