"""The camera server's side of the fleet: submit frames, read results."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis

from is21.producer.errors import (
    FleetUnreachable,
    WaitTimeout,
)
from is21.producer.fallbacks import FallbackCounts
from is21.producer.ledger import Ledger
from is21.producer.liveness import Liveness
from is21.producer.reading import Reading
from is21.producer.ticket import Ticket, answers, fallback_result
from is21.producer.validation import validate_frame
from is21.protocol.connection import CONNECTION_ERRORS, PoolExhausted, connect
from is21.protocol.schema_store import load_schema, parse_schema, store_schema
from is21.schemas import codec, keys
from is21.schemas.events import EventSchema
from is21.schemas.frames import camera_ids
from is21.schemas.results import Result
from is21.schemas.settings import Settings

log = logging.getLogger(__name__)


class FrameProducer(Reading):
    def __init__(
        self, client: redis.Redis, settings: Settings | None = None, ledger: Ledger | None = None
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.settings = settings or Settings()
        self.liveness = Liveness(client, self.settings)
        self._redis_down_until = float("-inf")
        self._down_reason = ""
        self.fallbacks = FallbackCounts()
        self.junk_results = 0

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> FrameProducer:
        settings = settings or Settings()
        return cls.from_url(settings.effective_redis_url, settings)

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> FrameProducer:
        settings = settings or Settings()
        # One quick retry at most, and only of a broken connection: the camera loop
        # prefers a fallback to a long stall.
        client = connect(
            url,
            timeout=settings.redis_timeout,
            retries=1,
            max_connections=settings.redis_max_connections,
        )
        return cls(client, settings)

    def fleet_available(self) -> bool:
        """True when at least one worker has a fresh heartbeat (cached for a second).

        Raises ``redis.RedisError`` when Redis cannot be asked; ``submit`` turns that
        into a fallback.
        """
        self.liveness.refresh()
        return self.liveness.unavailable is None

    def validate(
        self,
        camera_id: str,
        jpeg: bytes,
        request_id: str | None,
        captured_at: datetime | None = None,
    ) -> None:
        validate_frame(camera_id, jpeg, request_id, captured_at, self.settings.max_frame_bytes)

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
        carries a ``fallback`` result (no_event) at once, as is22 expects. So does a frame
        Redis refuses (a key of the wrong type, out of memory), for its camera alone.
        """
        self.validate(camera_id, jpeg, request_id, captured_at)
        ticket = self._submit(camera_id, jpeg, captured_at, request_id)
        if self.ledger is not None:
            self.ledger.record(ticket)
        return ticket

    def _submit(
        self,
        camera_id: str,
        jpeg: bytes,
        captured_at: datetime | None,
        request_id: str | None,
    ) -> Ticket:
        if time.monotonic() < self._redis_down_until:
            reason = f"{self._down_reason} (cached)"
            return self._fallback(camera_id, request_id, reason, "redis_unreachable")
        try:
            if not self.fleet_available():
                reason = str(self.liveness.unavailable)
                return self._fallback(camera_id, request_id, reason, self.liveness.kind)
            if (full := self.liveness.memory_full(len(jpeg))) is not None:
                return self._fallback(camera_id, request_id, full, "memory_high")
            ticket = self._store(camera_id, jpeg, captured_at, request_id)
            self.liveness.stored(len(jpeg))
            self.fallbacks.write(self.client)  # any counted while Redis was away
            return ticket
        except PoolExhausted as exc:
            # This process is busy, not Redis: this frame only.
            log.warning("camera %s: falling back to no_event: %s", camera_id, exc)
            reason = f"producer busy: {exc}"
            return self._fallback(camera_id, request_id, reason, "producer_busy")
        except CONNECTION_ERRORS as exc:
            # Do not retry on every frame: skip Redis for as long as a liveness answer lives.
            self._redis_down_until = time.monotonic() + max(self.settings.fleet_cache, 0.1)
            self.liveness.forget()
            self._down_reason = "redis unreachable"
            log.warning("redis unreachable, falling back to no_event: %s", exc)
            reason = f"redis unreachable: {exc}"
            return self._fallback(camera_id, request_id, reason, "redis_unreachable")
        except redis.RedisError as exc:
            # A refusal names one command, so one camera: every other camera goes on.
            log.warning("camera %s: redis refused the frame, no_event: %s", camera_id, exc)
            reason = f"redis refused the frame: {exc}"
            return self._fallback(camera_id, request_id, reason, "redis_refused")

    def _fallback(self, camera_id: str, request_id: str | None, reason: str, kind: str) -> Ticket:
        """A no_event answer of the producer's own, counted by kind."""
        self.fallbacks.count(self.client, kind)
        result = fallback_result(camera_id, request_id, reason)
        return Ticket(camera_id, "", 0, "0-0", request_id, time.time(), fallback=result)

    def _store(
        self, camera_id: str, jpeg: bytes, captured_at: datetime | None, request_id: str | None
    ) -> Ticket:
        """docs/protocol.md's submit: XADD the frame, FCALL is21_register; one round trip.
        The JPEG goes in with the XADD alone: through Lua it would cost Redis ~0.3 ms."""
        captured = captured_at or datetime.now(UTC)
        meta = {"captured_at": captured.isoformat()}
        if request_id is not None:
            meta["request_id"] = request_id
        frames = keys.frames(camera_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(
            frames,
            {"meta": codec.packb(meta), "jpeg": bytes(jpeg)},
            maxlen=self.settings.frame_maxlen,
            approximate=False,
        )
        pipe.fcall("is21_register", 1, frames)
        frame_id, registered = pipe.execute(raise_on_error=False)
        if isinstance(frame_id, Exception):
            raise frame_id
        if isinstance(registered, Exception):
            # Refused: the frame is not registered, so no worker will ever take it. Leave
            # no JPEG behind that only retention would find.
            self.client.xdel(frames, frame_id)
            raise registered
        seq, after = registered
        return Ticket(
            camera_id, frame_id.decode(), int(seq), after.decode(), request_id, time.time()
        )

    def wait(self, ticket: Ticket, timeout: float = 10.0) -> Result:
        """The result of the ticket's frame, or of the newer frame that superseded it.

        Raises ``WaitTimeout`` when none came in time, and its subclass
        ``FleetUnreachable`` when Redis could not be asked.
        """
        if ticket.fallback is not None:
            return ticket.fallback
        deadline = time.monotonic() + timeout
        stream = keys.results(ticket.camera_id)
        after = ticket.results_after
        while (left := deadline - time.monotonic()) > 0:
            # A blocking read must return before the socket times out.
            block = max(1, int(min(left, self.settings.redis_timeout / 2) * 1000))
            try:
                reply: Any = self.client.xread({stream: after}, block=block)
            except PoolExhausted:
                continue  # busy here, not down: keep trying until the deadline
            except redis.RedisError as exc:
                raise FleetUnreachable(
                    f"camera {ticket.camera_id} frame {ticket.seq}: cannot read results: {exc}"
                ) from exc
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    after = entry_id.decode()
                    if not answers(fields, ticket.frame_id):
                        continue  # an older frame's result
                    if (result := self._decode(entry_id, fields)) is not None:
                        return result
        raise WaitTimeout(
            f"no result for camera {ticket.camera_id} frame {ticket.seq} within {timeout:.1f}s"
        )

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
        return camera_ids(members)
