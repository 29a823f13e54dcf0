"""Whether the fleet can answer a frame now: the liveness check of docs/protocol.md,
asked at most once per ``IS21_FLEET_CACHE``, with Redis's memory and the protocol version
read in the same round trip.

Its answer is the reason a frame falls back to ``no_event``, or None.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from is21.protocol.functions import is_missing
from is21.schemas import keys
from is21.schemas.results import PROTOCOL_VERSION
from is21.schemas.settings import Settings


class Liveness:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self.unavailable: str | None = None  # why the fleet cannot answer, at the last look
        self.kind = ""  # that reason as a fallback counter's name: no_worker, stuck, protocol
        self._asked_at = float("-inf")
        self._memory = (0, 0)  # (used, maxmemory) at the last reading
        self._stored_since = 0  # bytes this producer stored since then

    def forget(self) -> None:
        """Ask again at the next frame (Redis was just found unreachable)."""
        self._asked_at = float("-inf")

    def refresh(self) -> None:
        """Raises ``redis.RedisError`` when Redis cannot be asked."""
        now = time.monotonic()
        if now - self._asked_at <= self.settings.fleet_cache:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.fcall_ro("is21_alive", 0)
        pipe.info("memory")
        pipe.hget(keys.PROTOCOL, "version")
        # Only to say why when none can answer; this host's clock is close enough for that.
        pipe.zcount(keys.WORKERS, int(time.time() * 1000), "+inf")
        alive, memory, version, live = pipe.execute(raise_on_error=False)
        for reply in (memory, version, live):
            if isinstance(reply, Exception):
                raise reply
        if isinstance(alive, Exception) and not is_missing(alive):
            raise alive
        self.kind, self.unavailable = self._why(alive, int(live), version)
        self._asked_at = now
        self._memory = (int(memory.get("used_memory", 0)), int(memory.get("maxmemory", 0)))
        self._stored_since = 0

    @staticmethod
    def _why(alive: Any, live: int, version: bytes | None) -> tuple[str, str | None]:
        if is_missing(alive):
            return "no_worker", "no live worker (the is21 functions are not loaded yet)"
        if int(alive) == 0 and live > 0:
            return "stuck", "every live worker is stuck in a detection"
        if int(alive) == 0:
            return "no_worker", "no live worker"
        if version is not None and int(version) > PROTOCOL_VERSION:
            return "protocol", (
                f"the fleet speaks protocol {int(version)}, this client {PROTOCOL_VERSION}: "
                "upgrade is21 on the camera server"
            )
        return "", None

    def stored(self, frame_bytes: int) -> None:
        self._stored_since += frame_bytes

    def memory_full(self, frame_bytes: int) -> str | None:
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
