"""The producer's own no_event answers, counted by why, so that operators see the fleet
go blind (``is21:counters``: ``fallback`` and ``fallback:KIND``; /metrics, is21 status).

A fallback for Redis unreachable cannot be written when it happens: it is kept and
written with the next count that gets through.
"""

from __future__ import annotations

import logging
from collections import Counter

import redis

from is21.schemas import keys

log = logging.getLogger(__name__)


class FallbackCounts:
    def __init__(self) -> None:
        self.unwritten: Counter[str] = Counter()  # by kind, not yet in Redis

    def count(self, client: redis.Redis, kind: str) -> None:
        self.unwritten[kind] += 1
        if kind != "redis_unreachable":  # those are written once Redis answers again
            self.write(client)

    def write(self, client: redis.Redis) -> None:
        if not self.unwritten:
            return
        pipe = client.pipeline(transaction=False)
        pipe.hincrby(keys.COUNTERS, "fallback", sum(self.unwritten.values()))
        for kind, n in self.unwritten.items():
            pipe.hincrby(keys.COUNTERS, f"fallback:{kind}", n)
        try:
            pipe.execute()
        except redis.RedisError as exc:  # kept for the next try
            log.debug("fallback counts not written yet: %s", exc)
            return
        self.unwritten.clear()
