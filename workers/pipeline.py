"""One dispatch job's loop: serve ready cameras, newest frame first, until the budget is
spent, with the next frame claimed, read and decoded while this one is inferred.

While frame N is inferred, a helper thread makes the round trip that publishes N-1,
claims the reserved camera's newest frame N+1 and reads it, then decodes N+1: ONNX
Runtime and RKNN release the GIL while they infer, so on the RK3588 the CPU prepares
N+1 while the NPU runs N. A job therefore holds at most three cameras: the one inferred,
the one claimed ahead, the one reserved. Every result leaves through ``send``, and
``settle`` decides when.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
from redis.backoff import ExponentialWithJitterBackoff

from is21.protocol.connection import CONNECTION_ERRORS, refuses_writes
from is21.workers.claims import Claim, Next, Retire
from is21.workers.frame import Inputs, Served

log = logging.getLogger(__name__)


class Frames(Protocol):
    """What a dispatch job may ask of its worker (``engine.Engine``), and nothing more."""

    stopping: threading.Event

    def claim(self, job_id: str, likely: str | None) -> Next: ...

    def idle(self, timeout: float) -> str | None: ...

    def prepare(self, claim: Claim) -> None: ...

    def decode(self, claim: Claim) -> Inputs | None: ...

    def detect(self, claim: Claim, held_ms: float, inputs: Inputs | None) -> Served: ...

    def publish(
        self, job_id: str, served: Served | None, *, claim: str | None, release: str | None
    ) -> Next: ...

    def release(self, job_id: str, camera: str) -> None: ...

    @property
    def core_failed(self) -> bool: ...

    def frame_done(self, served: Served, wall_ms: float, overlapped_ms: float) -> None: ...

    def redis_refused(self) -> None: ...

    def reconnect(self) -> bool: ...

    def hand_over(self, job_id: str) -> None: ...


@dataclass
class Hand:
    """What a job holds between two frames."""

    claim: Claim | Retire | None = None  # the frame to infer next (claimed and read)
    reserved: str | None = None  # the camera reserved after it, its frame not chosen yet
    unpublished: Served | None = None  # the last result: out with the next round trip
    inputs: Inputs | None = None  # the claimed frame, decoded ahead


@dataclass
class Ahead:
    """What the helper thread brings back: the next claim and its frame decoded."""

    next: Next
    inputs: Inputs | None


class Pipeline:
    def __init__(self, frames: Frames, job_id: str, budget: float, helper: Executor) -> None:
        self.frames, self.job_id, self.helper = frames, job_id, helper
        self.deadline = time.monotonic() + budget
        self.served = 0

    def finishing(self) -> bool:
        return self.frames.stopping.is_set() or time.monotonic() >= self.deadline

    def run(self) -> dict[str, Any]:
        hand = Hand()
        woken_by: str | None = None  # the camera whose frame ended the last idle wait
        started = time.perf_counter()
        while hand.claim is not None or not self.finishing():
            try:
                if hand.claim is None:
                    started = time.perf_counter()
                    hand, woken_by = Hand(*self.frames.claim(self.job_id, woken_by)), None
                    if hand.claim is None:
                        left = max(self.deadline - time.monotonic(), 0.01)
                        # At least every second: the job's lease stays fresh, a stop is seen.
                        woken_by = self.frames.idle(min(1.0, left))
                    continue
                if isinstance(hand.claim, Retire):
                    self.retire(hand)
                    return {"served": self.served, "retired": True}
                if self.frames.core_failed:
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
                if not self.frames.reconnect():
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
                self.frames.redis_refused()
                hand = Hand()
                self.frames.stopping.wait(1.0)
        self.frames.hand_over(self.job_id)
        return {"served": self.served, "retired": False}

    def serve_frame(self, hand: Hand, claim: Claim, started: float) -> Hand:
        """Infer the frame in hand while the helper thread settles the one before it and
        claims, reads and decodes the reserved camera's next frame; then settle this one."""
        self.frames.prepare(claim)
        ahead_camera = None if self.finishing() else hand.reserved
        flight: Future[Ahead | None] | None = None
        if ahead_camera is not None or hand.unpublished is not None:
            flight = self.helper.submit(self.ahead, hand.unpublished, ahead_camera)
        inputs = Inputs.of(hand.inputs, claim)
        decoded_ahead_ms = inputs.timings.decode_ms
        held_ms = (datetime.now(UTC) - claim.claimed_at).total_seconds() * 1000
        served = self.frames.detect(claim, held_ms, inputs)
        ahead = flight.result() if flight is not None else None
        # A reservation no claim ahead took up goes back, or into the next claim.
        unused = hand.reserved if ahead_camera is None else None
        after = self.settle(served, ahead, unused)
        # Everything this frame cost the critical path besides decode and inference:
        # round trips not overlapped, encoding, logging.
        wall_ms = (time.perf_counter() - started) * 1000
        self.frames.frame_done(served, wall_ms, decoded_ahead_ms)
        return after

    def ahead(self, unpublished: Served | None, camera: str | None) -> Ahead | None:
        """The helper thread's work during an inference: publish the result before, and
        claim, read and decode ``camera``'s newest frame, in one round trip."""
        next_ = self.send(unpublished, claim=camera)
        if camera is None:
            return None
        claim = next_.claim
        return Ahead(next_, self.frames.decode(claim) if isinstance(claim, Claim) else None)

    def settle(self, served: Served, ahead: Ahead | None, unused: str | None) -> Hand:
        """When a finished frame's result goes out: with the next round trip when a frame
        was claimed ahead (or the claim said retire); with its camera's release, and the
        unused reservation's, when the job is finishing; else together with the next
        claim, one round trip on the critical path."""
        if ahead is not None and ahead.next.claim is not None:
            return Hand(*ahead.next, unpublished=served, inputs=ahead.inputs)
        if self.finishing():
            self.send(served, release=unused)
            return Hand()
        return Hand(*self.send(served, claim=unused))

    def retire(self, hand: Hand) -> None:
        """The job lost its lease (or its core): publish what was inferred, give back the
        reservation."""
        self.send(hand.unpublished, release=hand.reserved)

    def send(
        self, served: Served | None, *, claim: str | None = None, release: str | None = None
    ) -> Next:
        """The one place a result leaves (``served``, if any), with the claim of ``claim``'s
        newest frame or the release of ``release`` in the same round trip."""
        if served is None and claim is None:
            if release is not None:
                self.frames.release(self.job_id, release)
            return Next(None, None)
        return self.frames.publish(self.job_id, served, claim=claim, release=release)


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
