"""One dispatch job's loop: serve ready cameras, newest frame first, until the budget is
spent, with the next frame claimed, read and decoded while this one is inferred.

While frame N is inferred, a helper thread makes the round trip that publishes N-1,
claims the reserved camera's newest frame N+1 and reads it, then decodes N+1: ONNX
Runtime and RKNN release the GIL while they infer, so on the RK3588 the CPU prepares
N+1 while the NPU runs N. A job therefore holds at most three cameras: the one inferred,
the one claimed ahead, the one reserved. ``settle`` is the one place that decides how a
finished frame's result goes out.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from redis.backoff import ExponentialWithJitterBackoff

from is21.protocol.connection import CONNECTION_ERRORS, refuses_writes
from is21.schemas import keys
from is21.schemas.results import Result
from is21.workers.claims import Claim, Next, Retire
from is21.workers.frame import Inputs, decode_ahead

if TYPE_CHECKING:
    from is21.workers.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class Hand:
    """What a job holds between two frames."""

    claim: Claim | Retire | None = None  # the frame to infer next (claimed and read)
    reserved: str | None = None  # the camera reserved after it, its frame not chosen yet
    unpublished: Result | None = None  # the last result: out with the next round trip
    inputs: Inputs | None = None  # the claimed frame, decoded ahead


@dataclass
class Ahead:
    """What the helper thread brings back: the next claim and its frame decoded."""

    next: Next
    inputs: Inputs | None


class Pipeline:
    def __init__(self, engine: Engine, job_id: str) -> None:
        self.engine, self.job_id = engine, job_id
        self.deadline = time.monotonic() + engine.settings.job_budget
        self.served = 0

    def finishing(self) -> bool:
        return self.engine.stopping.is_set() or time.monotonic() >= self.deadline

    def run(self) -> dict[str, Any]:
        hand = Hand()
        woken_by: str | None = None  # the camera whose frame ended the last idle wait
        started = time.perf_counter()
        while hand.claim is not None or not self.finishing():
            try:
                if hand.claim is None:
                    started = time.perf_counter()
                    next_ = self.engine.scripts.claim_ahead(
                        self.job_id, woken_by, self.engine.reservation.lease_ms
                    )
                    hand, woken_by = Hand(*next_), None
                    if hand.claim is None:
                        woken_by = self.idle()
                    continue
                if isinstance(hand.claim, Retire):
                    self.retire(hand)
                    return {"served": self.served, "retired": True}
                if self.engine.core.failed is not None:
                    # Not one more frame on a failed core: the claimed one is left to
                    # its lease, then served by another worker, as for a dead worker's.
                    self.retire(hand)
                    break
                hand = self.serve_frame(hand, hand.claim, started)
                self.served += 1
                started = time.perf_counter()
            except CONNECTION_ERRORS as exc:
                # Redis went away. The frames in hand are dropped: after a blip their
                # leases run out and the next claim serves them again; after a restart
                # without persistence their cameras' state is gone anyway. The job never
                # fails on this: RQ's failure bookkeeping would need the missing Redis.
                log.warning("redis unreachable while serving: %s; waiting for it", exc)
                hand = Hand()
                if not wait_for_redis(self.engine.client, self.engine.stopping):
                    break
            except redis.ResponseError as exc:
                # Full with noeviction, or no replica in sync: the result could not be
                # written. Or a fleet-wide key of the wrong type, which the functions
                # refuse before changing anything. Either way the frames in hand go back
                # to their leases, to be served again once Redis takes them; the job
                # never dies of it (a camera's own bad keys are that camera's problem,
                # settled in the functions).
                what = "refuses writes" if refuses_writes(exc) else "refused a call"
                log.error("redis %s, frames in hand left to their leases: %s", what, exc)
                self.engine.stats.redis_errors += 1
                hand = Hand()
                self.engine.stopping.wait(1.0)
        self.hand_over()
        return {"served": self.served, "retired": False}

    def idle(self) -> str | None:
        """Sleep until a camera becomes ready, but wake at least every second to keep the
        job's lease fresh and notice a stop; the camera whose frame woke it, if one did."""
        left = max(self.deadline - time.monotonic(), 0.01)
        woke: Any = self.engine.client.blpop([keys.WAKE], timeout=min(1.0, left))
        self.engine.swap_models()
        return woke[1].decode() if woke else None

    def serve_frame(self, hand: Hand, claim: Claim, started: float) -> Hand:
        """Infer the frame in hand while the helper thread settles the one before it and
        claims, reads and decodes the reserved camera's next frame; then settle this one."""
        engine = self.engine
        engine.swap_models()
        engine.follow_schema(claim.schema_version)
        ahead_camera = None if self.finishing() else hand.reserved
        flight: Future[Ahead | None] | None = None
        if ahead_camera is not None or hand.unpublished is not None:
            flight = engine.helper.submit(self.ahead, hand.unpublished, ahead_camera)
        inputs = Inputs.of(hand.inputs, claim)
        decoded_ahead_ms = inputs.timings.decode_ms
        held_ms = (datetime.now(UTC) - claim.claimed_at).total_seconds() * 1000
        result = engine.detect(claim, held_ms, inputs)
        ahead = flight.result() if flight is not None else None
        # A reservation no claim ahead took up goes back, or into the next claim.
        unused = hand.reserved if ahead_camera is None else None
        after = self.settle(result, ahead, unused)
        # Everything this frame cost the critical path besides decode and inference:
        # round trips not overlapped, encoding, logging.
        wall_ms = (time.perf_counter() - started) * 1000
        engine.reservation.record(wall_ms)
        engine.stats.record(
            result.status == "ok",
            result.processing_ms,
            wall_ms - (result.processing_ms - decoded_ahead_ms),
        )
        return after

    def ahead(self, unpublished: Result | None, camera: str | None) -> Ahead | None:
        """The helper thread's work during an inference: publish the result before, and
        claim, read and decode ``camera``'s newest frame, in one round trip."""
        if camera is None:
            if unpublished is not None:
                self.engine.publish(self.job_id, unpublished)
            return None
        next_ = self.engine.publish_and_claim(self.job_id, unpublished, camera)
        claim = next_.claim
        if not isinstance(claim, Claim):
            return Ahead(next_, None)
        engine = self.engine
        return Ahead(next_, decode_ahead(claim, engine.detectors, engine.settings.max_pixels))

    def settle(self, result: Result, ahead: Ahead | None, unused: str | None) -> Hand:
        """How a finished frame's result goes out: with the next round trip when a frame
        was claimed ahead (or the claim said retire); with its camera's release, and the
        unused reservation's, when the job is finishing; else published together with the
        next claim, one round trip on the critical path."""
        if ahead is not None and ahead.next.claim is not None:
            return Hand(*ahead.next, unpublished=result, inputs=ahead.inputs)
        if self.finishing():
            self.engine.publish(self.job_id, result, release=unused)
            return Hand()
        return Hand(*self.engine.publish_and_claim(self.job_id, result, unused))

    def retire(self, hand: Hand) -> None:
        """The job lost its lease (or its core): publish what was inferred, give back the
        reservation."""
        if hand.unpublished is not None:
            self.engine.publish(self.job_id, hand.unpublished, release=hand.reserved)
        elif hand.reserved is not None:
            self.engine.scripts.release(self.job_id, hand.reserved)

    def hand_over(self) -> None:
        """The job ends: a stopping worker leaves the live set first, so the successor the
        job reserves is sized without it."""
        if self.engine.stopping.is_set():
            self.engine.heartbeat.stop()
        try:
            self.engine.dispatcher.ensure_jobs(leaving=self.job_id)
        except redis.RedisError as exc:  # the heartbeat thread asks again after its beat
            log.warning("could not hand over dispatch: %s", exc)


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
