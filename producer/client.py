"""The camera server's side of the fleet: submit frames, read results."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from producer.connection import CONNECTION_ERRORS, connect, load_script, run_scripts
from producer.dispatch import Dispatcher
from producer.errors import (
    FrameTooLarge,
    InvalidCameraId,
    InvalidRequestId,
    NotAJpeg,
    WaitTimeout,
)
from producer.schema_store import load_schema, parse_schema, store_schema
from schemas import codec, keys
from schemas.events import EventSchema
from schemas.frames import is_camera_id, is_request_id
from schemas.results import Result
from schemas.settings import Settings

JPEG_MAGIC = b"\xff\xd8\xff"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ticket:
    camera_id: str
    frame_id: str
    seq: int
    results_after: str
    request_id: str | None
    submitted_at: float
    fallback: Result | None = None  # set when the frame was not enqueued


def fallback_result(camera_id: str, request_id: str | None, reason: str) -> Result:
    return Result(
        camera_id=camera_id,
        frame_id="",
        seq=0,
        status="fallback",
        request_id=request_id,
        error=reason,
    )


def result_from_entry(fields: dict[bytes, bytes]) -> Result:
    return codec.decode(fields[b"data"], Result)


class FrameProducer:
    def __init__(self, client: redis.Redis, settings: Settings | None = None) -> None:
        self.client = client
        self.settings = settings or Settings()
        self.dispatcher = Dispatcher(client, self.settings)
        self._register = load_script(client, "producer", "register.lua")
        self._alive_script = load_script(client, "producer", "alive.lua")
        self._alive, self._alive_at = False, float("-inf")
        self._redis_down_until = float("-inf")
        self._memory, self._stored_since = (0, 0), 0  # (used, maxmemory) at the last reading
        self._down_reason = ""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> FrameProducer:
        settings = settings or Settings()
        return cls.from_url(settings.effective_redis_url, settings)

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> FrameProducer:
        settings = settings or Settings()
        # One quick retry at most: the camera loop prefers a fallback to a long stall.
        return cls(connect(url, timeout=settings.redis_timeout, retries=1), settings)

    def fleet_available(self) -> bool:
        """True when at least one worker has a fresh heartbeat (cached for a second).

        Raises ``redis.RedisError`` when Redis cannot be asked; ``submit`` turns that
        into a fallback.
        """
        self._refresh()
        return self._alive

    def _refresh(self) -> None:
        """Liveness and Redis memory, one round trip, at most once per ``fleet_cache``."""
        now = time.monotonic()
        if now - self._alive_at <= self.settings.fleet_cache:
            return
        alive, memory = run_scripts(
            self.client,
            [(self._alive_script, [keys.WORKERS], [])],
            lambda pipe: pipe.info("memory"),
        )
        self._alive, self._alive_at = int(alive) > 0, now
        self._memory = (int(memory.get("used_memory", 0)), int(memory.get("maxmemory", 0)))
        self._stored_since = 0

    def _memory_full(self, frame_bytes: int) -> str | None:
        """Refuse frames while results still fit: with maxmemory-policy noeviction Redis
        would refuse the workers' results next, and no frame would ever leave. Between
        two readings the frames this producer stored count as used."""
        used, limit = self._memory
        used += self._stored_since + frame_bytes
        if not limit or used <= limit * self.settings.redis_memory_high:
            return None
        return (
            f"redis memory high: ~{used} of maxmemory {limit} bytes "
            f"(IS21_REDIS_MEMORY_HIGH={self.settings.redis_memory_high}); "
            "run `is21 retention` or lower IS21_FRAME_MAXLEN"
        )

    def validate(self, camera_id: str, jpeg: bytes, request_id: str | None) -> None:
        if not is_camera_id(camera_id):
            raise InvalidCameraId(f"camera id must match [A-Za-z0-9_.-]{{1,64}}: {camera_id!r:.80}")
        if request_id is not None and not is_request_id(request_id):
            raise InvalidRequestId(
                f"request id must match [A-Za-z0-9_.-]{{1,128}}: {request_id!r:.80}"
            )
        if not isinstance(jpeg, bytes | bytearray | memoryview) or len(jpeg) == 0:
            raise NotAJpeg(f"camera {camera_id}: frame is empty or not bytes")
        if len(jpeg) > self.settings.max_frame_bytes:
            raise FrameTooLarge(
                f"camera {camera_id}: frame of {len(jpeg)} bytes exceeds "
                f"IS21_MAX_FRAME_BYTES={self.settings.max_frame_bytes}"
            )
        if bytes(jpeg[:3]) != JPEG_MAGIC:
            raise NotAJpeg(f"camera {camera_id}: frame does not start with a JPEG SOI marker")

    def submit(
        self,
        camera_id: str,
        jpeg: bytes,
        *,
        captured_at: datetime | None = None,
        request_id: str | None = None,
    ) -> Ticket:
        """Store a frame for detection; raises ``FrameRejected`` for refused input.

        With no live worker, or Redis unreachable, the frame is not stored and the ticket
        carries a ``fallback`` result (no_event) at once, as is22 expects.
        """
        self.validate(camera_id, jpeg, request_id)
        if time.monotonic() < self._redis_down_until:
            return self._fallback(camera_id, request_id, f"{self._down_reason} (cached)")
        try:
            if not self.fleet_available():
                self._count_fallback()
                return self._fallback(camera_id, request_id, "no live worker")
            if (full := self._memory_full(len(jpeg))) is not None:
                self._count_fallback()
                return self._fallback(camera_id, request_id, full)
            ticket = self._store(camera_id, jpeg, captured_at, request_id)
            self._stored_since += len(jpeg)
            return ticket
        except redis.RedisError as exc:
            # Do not retry on every frame: skip Redis for as long as a liveness answer lives.
            self._redis_down_until = time.monotonic() + max(self.settings.fleet_cache, 0.1)
            self._alive_at = float("-inf")
            what = "unreachable" if isinstance(exc, CONNECTION_ERRORS) else "refused the frame"
            self._down_reason = f"redis {what}"
            log.warning("redis %s, falling back to no_event: %s", what, exc)
            return self._fallback(camera_id, request_id, f"redis {what}: {exc}")

    def _fallback(self, camera_id: str, request_id: str | None, reason: str) -> Ticket:
        result = fallback_result(camera_id, request_id, reason)
        return Ticket(camera_id, "", 0, "0-0", request_id, time.time(), fallback=result)

    def _count_fallback(self) -> None:
        self.client.hincrby(keys.COUNTERS, "fallback", 1)

    def _store(
        self, camera_id: str, jpeg: bytes, captured_at: datetime | None, request_id: str | None
    ) -> Ticket:
        captured = captured_at or datetime.now(UTC)
        meta = {"captured_at": captured.isoformat()}
        if request_id is not None:
            meta["request_id"] = request_id
        # The JPEG goes in with a plain XADD: through Lua it would cost Redis ~0.3 ms.
        frame_id: Any = self.client.xadd(
            keys.frames(camera_id),
            {"meta": codec.packb(meta), "jpeg": bytes(jpeg)},
            maxlen=self.settings.frame_maxlen,
            approximate=False,
        )
        ensure = self.dispatcher.ensure_call()
        (seq, after), enqueue = run_scripts(
            self.client,
            [
                (
                    self._register,
                    [
                        keys.camera(camera_id),
                        keys.READY,
                        keys.LEASES,
                        keys.WAKE,
                        keys.CAMERAS,
                        keys.results(camera_id),
                    ],
                    [camera_id, frame_id],
                ),
                ensure,
            ],
        )
        if enqueue == 1:
            self.dispatcher.enqueue(str(ensure[2][1]))
        return Ticket(
            camera_id, frame_id.decode(), int(seq), after.decode(), request_id, time.time()
        )

    def wait(self, ticket: Ticket, timeout: float = 10.0) -> Result:
        """The result of the ticket's frame, or of the newer frame that superseded it."""
        if ticket.fallback is not None:
            return ticket.fallback
        deadline = time.monotonic() + timeout
        stream = keys.results(ticket.camera_id)
        after = ticket.results_after
        while (left := deadline - time.monotonic()) > 0:
            # A blocking read must return before the socket times out.
            block = max(1, int(min(left, self.settings.redis_timeout / 2) * 1000))
            reply: Any = self.client.xread({stream: after}, block=block)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    after = entry_id.decode()
                    if int(fields[b"seq"]) >= ticket.seq:
                        return result_from_entry(fields)
        raise WaitTimeout(
            f"no result for camera {ticket.camera_id} frame {ticket.seq} within {timeout:.1f}s"
        )

    def latest_result(self, camera_id: str) -> Result | None:
        entries: Any = self.client.xrevrange(keys.results(camera_id), count=1)
        return result_from_entry(entries[0][1]) if entries else None

    def push_schema(self, schema: EventSchema | dict[str, Any] | str | bytes) -> EventSchema:
        """Validate and store an event schema; workers use it from their next frame on."""
        if isinstance(schema, dict):
            schema = json.dumps(schema)
        parsed = schema if isinstance(schema, EventSchema) else parse_schema(schema)
        store_schema(self.client, parsed)
        return parsed

    def current_schema(self) -> EventSchema:
        return load_schema(self.client)

    def cameras(self) -> list[str]:
        members: Any = self.client.smembers(keys.CAMERAS)
        return sorted(m.decode() for m in members)

    def results(
        self,
        camera_ids: Iterable[str] | None = None,
        *,
        since: str = "$",
        block: float = 1.0,
        refresh: float = 5.0,
    ) -> Iterator[Result]:
        """Yield results as they are published, for the given cameras or all of them.

        With no camera ids the set of cameras is re-read every ``refresh`` seconds, so
        a camera that starts streaming later is picked up without a restart.
        """
        fixed = list(camera_ids) if camera_ids is not None else None
        positions: dict[str, str] = {}
        next_refresh = 0.0
        while True:
            if fixed is None and time.monotonic() >= next_refresh:
                next_refresh = time.monotonic() + refresh
                names = self.cameras()
            else:
                names = fixed if fixed is not None else list(positions)
            for cam in names:
                stream = keys.results(cam)
                if stream not in positions:
                    # Pin '$' to an id now: XREAD's '$' would drop what arrives between reads.
                    positions[stream] = self.stream_last_id(stream) if since == "$" else since
            if not positions:
                time.sleep(block)
                continue
            streams: Any = dict(positions)
            block_ms = int(min(block, self.settings.redis_timeout / 2) * 1000)
            reply: Any = self.client.xread(streams, block=max(1, block_ms))
            for stream, entries in reply or []:
                for entry_id, fields in entries:
                    positions[stream.decode()] = entry_id.decode()
                    yield result_from_entry(fields)

    def stream_last_id(self, stream: str) -> str:
        last: Any = self.client.xrevrange(stream, count=1)
        return last[0][0].decode() if last else "0-0"
