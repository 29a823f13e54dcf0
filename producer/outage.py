"""How long a reader rides out Redis going away: a named policy, as redis-py names its
backoffs.

A camera server reads results and events for as long as it runs; a Sentinel failover
(2-4 s) or a Redis restart is an outage to wait out, not an end. The readers keep their
stream positions (an entry id per camera; the consumer group's own), so after the
outage they go on from where they were: nothing the Redis that answers holds is missed,
and nothing is yielded twice. Only an outage longer than ``give_up_after`` reaches the
caller, as ``FleetUnreachable``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis
from redis.backoff import ExponentialWithJitterBackoff

from is21.producer.errors import FleetUnreachable

log = logging.getLogger(__name__)

# What a failover or a restart answers for a few seconds: a broken connection, a timeout,
# a replica that was the master (READONLY), one loading its data, no master yet.
PASSING = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.BusyLoadingError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.MasterDownError,
    redis.exceptions.TryAgainError,
)


def passing(exc: redis.RedisError) -> bool:
    """An error of Redis going away or coming back, not of the command."""
    return isinstance(exc, PASSING)


@dataclass
class RideOut:
    """``give_up_after``: seconds of outage before the reader raises; retries between
    back off from 0.1 s to 2 s, with jitter, so readers do not reconnect in step."""

    give_up_after: float = 30.0
    backoff: ExponentialWithJitterBackoff = field(
        default_factory=lambda: ExponentialWithJitterBackoff(base=0.1, cap=2.0)
    )

    def __post_init__(self) -> None:
        if self.give_up_after < 0:
            raise ValueError("give_up_after must be >= 0 s")


class Outage:
    """One reader's current outage, if any."""

    def __init__(self, policy: RideOut, what: str) -> None:
        self.policy, self.what = policy, what
        self.since: float | None = None
        self.failures = 0

    def failed(self, exc: redis.RedisError) -> None:
        """Wait before the next try; raise ``FleetUnreachable`` past the bound, or at once
        for an error that is not of Redis going away."""
        now = time.monotonic()
        if not passing(exc):
            raise FleetUnreachable(f"cannot read {self.what}: {exc}") from exc
        first = self.since is None
        self.since = now if self.since is None else self.since
        bound = self.policy.give_up_after
        if now - self.since >= bound:
            raise FleetUnreachable(
                f"cannot read {self.what}: Redis away for {now - self.since:.1f} s, past the "
                f"{bound:g} s bound (IS21_READER_GIVE_UP): {exc}"
            ) from exc
        if first:
            log.warning("redis went away while reading %s (%s); riding it out", self.what, exc)
        self.failures += 1
        # Never sleep past the bound: the last try comes when it is reached.
        time.sleep(min(self.policy.backoff.compute(self.failures), self.since + bound - now))

    def over(self) -> None:
        if self.since is not None:
            log.info("reading %s again after %.1f s", self.what, time.monotonic() - self.since)
        self.since, self.failures = None, 0
