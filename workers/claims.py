"""The two atomic steps of serving a frame: claim a camera, publish and release it.

Kept apart from the job loop so that tests (and later tools) can drive the dispatch
protocol directly against a real Redis, e.g. to play a worker that dies mid-frame.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import redis
from redis.client import Pipeline

from is21.protocol.functions import Call, call_functions
from is21.schemas import codec, keys
from is21.schemas.results import PROTOCOL_VERSION, Result
from is21.schemas.settings import Settings
from is21.workers.gate import Looked
from is21.workers.incidents.follow import Followed
from is21.workers.publish_args import gate_args, incident_args


@dataclass
class Claim:
    camera_id: str
    frame_id: str
    seq: int
    meta: bytes  # empty when the frame was trimmed before it could be read
    jpeg: bytes
    skipped: int
    queue_ms: float
    claimed_at: datetime
    schema_version: str  # the version in force in Redis; '' when none was pushed
    # Why the entry cannot be served, or None. A stream entry is untrusted input: any
    # client of the protocol may have written it, or retention trimmed it meanwhile.
    problem: str | None = None
    tracking: bytes = b""  # the camera's tracks and open incidents, read with the claim
    gate: bytes = b""  # its change-gate reference (workers/gate), likewise


def entry_problem(fields: dict[bytes, bytes] | None, max_bytes: int) -> str | None:
    if fields is None:
        return "the frame left Redis (trimmed) before it could be read"
    jpeg = fields.get(b"jpeg")
    if not jpeg:
        return "the frame's stream entry has no jpeg field"
    if len(jpeg) > max_bytes:
        return f"a frame of {len(jpeg)} bytes is over IS21_MAX_FRAME_BYTES ({max_bytes})"
    return None


@dataclass(frozen=True)
class Retire:
    """A claim's answer to a job that lost its lease while enough others are live: end,
    publishing what it has inferred and giving back what it reserved."""


RETIRE = Retire()


class Published(enum.Enum):
    """What is21_publish did with a result."""

    STORED = "stored"
    STALE = "stale"  # the job's claim had lapsed: dropped and counted (stale_results)
    REFUSED = "refused"  # Redis would not store it: the frame failed, the camera set aside


def published(reply: Any) -> tuple[Published, str | None]:
    """is21_publish's reply: 1, 0, or the reason Redis refused the result."""
    if isinstance(reply, bytes):
        return Published.REFUSED, reply.decode("utf-8", "replace")
    return (Published.STORED if reply == 1 else Published.STALE), None


class Next(NamedTuple):
    """What a job holds after a claim: the frame to serve and the camera reserved next."""

    claim: Claim | Retire | None
    reserved: str | None


def read_newest(camera: str) -> Callable[[Pipeline], object]:
    """Appends to a claim's round trip the read of the frame it will most likely name."""
    return lambda pipe: pipe.xrevrange(keys.frames(camera), count=1)


class ClaimScripts:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings

    def _claim_call(
        self,
        job_id: str,
        reserved: str | None = None,
        reserve: bool = False,
        reserve_ms: int | None = None,
    ) -> Call:
        return Call(
            "is21_claim",
            [keys.READY, keys.LEASES, keys.JOBS, keys.WORKERS, keys.SCHEMA],
            [
                keys.PREFIX,
                job_id,
                int(self.settings.lease_ttl * 1000),
                int(self.settings.lease_ttl * 1000),
                int(self.settings.max_frame_age * 1000),
                reserved or "",
                int(reserve),
                reserve_ms or "",
                PROTOCOL_VERSION,
            ],
        )

    def _publish_call(
        self,
        job_id: str,
        result: Result,
        followed: Followed | None = None,
        looked: Looked | None = None,
    ) -> Call:
        result.published_at = datetime.now(UTC)
        # Stored -> out: the wait to be claimed (Redis's clock), then this worker's part.
        latency_ms = max(result.queue_ms, 0.0)  # never a negative duration in a histogram
        if result.claimed_at is not None:
            latency_ms += max((result.published_at - result.claimed_at).total_seconds(), 0) * 1000
        return Call(
            "is21_publish",
            [
                keys.camera(result.camera_id),
                keys.results(result.camera_id),
                keys.EVENTS,
                keys.LEASES,
                keys.READY,
                keys.WAKE,
                keys.PROCESSING_HISTOGRAM,
                keys.SERVED,
                keys.LATENCY_HISTOGRAM,
                keys.CAMERA_PROBLEMS,
                keys.INCIDENTS,
                keys.INCIDENTS_OPEN,
                keys.INCIDENTS_DUE,
                keys.SNAPSHOTS,
                keys.GATE_HISTOGRAM,
            ],
            [
                result.camera_id,
                job_id,
                result.seq,
                result.status,
                result.primary_event,
                codec.encode(result),
                int(result.is_event),
                self.settings.events_maxlen,
                keys.bucket(result.processing_ms),
                result.processing_ms,
                self.settings.results_maxlen,
                result.frame_id,
                PROTOCOL_VERSION,
                keys.bucket(latency_ms, keys.LATENCY_BUCKETS_MS),
                round(latency_ms, 2),
                *gate_args(result, looked or Looked()),
                *incident_args(followed, self.settings),
            ],
        )

    def _release_call(self, job_id: str, camera_id: str) -> Call:
        return Call(
            "is21_release",
            [keys.camera(camera_id), keys.LEASES, keys.READY, keys.WAKE],
            [camera_id, job_id],
        )

    def claim(self, job_id: str) -> Claim | Retire | None:
        """One camera, nothing reserved: for tests and tools that play a worker."""
        (reply,) = call_functions(self.client, [self._claim_call(job_id)])
        return self._read_claim(reply, None).claim

    def claim_ahead(
        self, job_id: str, likely: str | None = None, reserve_ms: int | None = None
    ) -> Next:
        """A camera to serve now and, if another is ready, one reserved to serve next.

        ``likely``: the camera whose frame woke an idle job, most often the one the claim
        takes; its newest frame is read in the same round trip, to be used if it is the
        one claimed (one round trip less per frame at light load). ``reserve_ms``: how
        long the reservation waits for this job's next claim (None: the camera lease).
        """
        call = [self._claim_call(job_id, reserve=True, reserve_ms=reserve_ms)]
        if likely is None:
            (reply,) = call_functions(self.client, call)
            return self._read_claim(reply, None)
        reply, fetched = call_functions(self.client, call, read_newest(likely))
        return self._read_claim(reply, (likely, fetched))

    def publish(
        self,
        job_id: str,
        result: Result,
        release: str | None = None,
        followed: Followed | None = None,
        looked: Looked | None = None,
    ) -> tuple[Published, str | None]:
        """Publish the result (with the camera's incidents and gate reference) and release
        the camera, unless this job's claim has lapsed; give back the camera reserved
        next, if any."""
        calls = [self._publish_call(job_id, result, followed, looked)]
        if release is not None:
            calls.append(self._release_call(job_id, release))
        reply, *_ = call_functions(self.client, calls)
        return published(reply)

    def publish_and_claim(
        self,
        job_id: str,
        result: Result | None,
        reserved: str | None,
        reserve_ms: int | None = None,
        followed: Followed | None = None,
        looked: Looked | None = None,
    ) -> tuple[tuple[Published, str | None] | None, Next]:
        """One round trip: the frame's result (if any) out, the reserved camera's newest
        frame claimed and read, the camera after it reserved for ``reserve_ms``."""
        calls = [self._publish_call(job_id, result, followed, looked)] if result else []
        calls.append(self._claim_call(job_id, reserved, True, reserve_ms))
        then = None if reserved is None else read_newest(reserved)
        replies = call_functions(self.client, calls, then)
        outcome = published(replies[0]) if result is not None else None
        reply = replies[len(calls) - 1]
        fetched = (reserved, replies[len(calls)]) if reserved is not None else None
        return outcome, self._read_claim(reply, fetched, reserved)

    def release(self, job_id: str, camera_id: str) -> bool:
        (released,) = call_functions(self.client, [self._release_call(job_id, camera_id)])
        return bool(released)

    def _read_claim(
        self, reply: Any, fetched: tuple[str, Any] | None, reserved: str | None = None
    ) -> Next:
        """The claim's reply, with its frame: the one read in the same round trip if it is
        this camera's and this id (streams of two cameras share ids when their frames
        arrive in the same millisecond), else read now."""
        if reply is None:
            return Next(None, None)
        if reply == b"retire":
            return Next(RETIRE, reserved)  # the reservation, if still ours, is to release
        cam, frame_id, seq, skipped, age, schema_version, next_cam, tracking, gate = reply
        problem = None
        read_ahead = fetched[1] if fetched is not None and fetched[0] == cam.decode() else None
        if isinstance(read_ahead, list) and read_ahead and read_ahead[0][0] == frame_id:
            fields = read_ahead[0][1]  # read in the claim's round trip
        else:
            # Read the frame with a plain command: through Lua a JPEG costs Redis ~0.3 ms.
            try:
                entries: Any = self.client.xrange(keys.frames(cam.decode()), frame_id, frame_id)
            except redis.ResponseError as exc:  # the stream replaced after registering
                entries, problem = [], f"the frame's stream cannot be read: {exc}"
            fields = entries[0][1] if entries else None
        problem = problem or entry_problem(fields, self.settings.max_frame_bytes)
        fields = fields or {}
        claim = Claim(
            cam.decode(),
            frame_id.decode(),
            int(seq),
            fields.get(b"meta", b""),  # kept with a problem: its request_id is echoed
            b"" if problem else fields.get(b"jpeg", b""),
            int(skipped),
            float(age),
            datetime.now(UTC),
            schema_version.decode(),
            problem,
            tracking or b"",
            gate or b"",
        )
        return Next(claim, next_cam.decode() or None)
