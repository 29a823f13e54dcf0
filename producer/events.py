"""``FrameProducer.events()`` and ``incidents()``: a stream (is21:events, is21:incidents)
through a consumer group, at least once.

An event goes to one consumer of the group and stays pending on it until acknowledged
(when the consumer asks for the next one). A consumer that dies holding a batch would
keep those events for ever; so before each read, a consumer takes over the events that
have waited unacknowledged on any other consumer past ``Redelivery.idle_after`` (XCLAIM,
which counts each delivery). An event delivered ``max_deliveries`` times is one that
kills or stalls whoever handles it: it is parked in is21:events:parked (or
is21:incidents:parked), acknowledged, and counted (``is21:counters`` ``events_parked``,
``incidents_parked``), so it cannot loop through the group.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import redis

from is21.producer.errors import FleetUnreachable
from is21.producer.outage import Outage, RideOut
from is21.protocol.connection import PoolExhausted
from is21.schemas import keys
from is21.schemas.frames import entry_order

log = logging.getLogger(__name__)

T = TypeVar("T")
Decode = Callable[[bytes, dict[bytes, bytes]], T | None]


@dataclass(frozen=True)
class Redelivery:
    """When a consumer takes over another's unacknowledged events, and gives up on one.

    60 s is far beyond the time a camera server takes to store an event, and short
    enough that a dead instance's events reach another within a minute. Five deliveries
    let an event survive a few unrelated crashes before it is set aside.
    """

    idle_after: float = 60.0
    max_deliveries: int = 5

    def __post_init__(self) -> None:
        if self.idle_after <= 0 or self.max_deliveries < 1:
            raise ValueError("idle_after must be > 0 s and max_deliveries >= 1")


DEFAULT_REDELIVERY = Redelivery()


@dataclass
class EventReader(Generic[T]):
    client: redis.Redis
    group: str
    consumer: str
    block_ms: int
    count: int
    decode: Decode[T]
    redelivery: Redelivery
    outage: Outage | None = None  # None: the first error raises FleetUnreachable
    last_id: bytes | None = None  # the newest event this consumer read: where a lost group resumes
    stream: str = keys.EVENTS
    # What to yield when Redis lost the stream this consumer read (a restart without
    # persistence): the incidents it knows open will never get their end otherwise.
    forgotten: Callable[[], list[T]] | None = None

    @property
    def parked(self) -> str:
        return self.stream + ":parked"

    def __iter__(self) -> Iterator[T]:
        """This consumer's own unacknowledged events first, from id 0, then the events
        others left too long, then new ones; each acknowledged when the next is asked for.
        Redis going away is ridden out (``outage``): an event yielded whose
        acknowledgement did not get through is acknowledged once Redis is back, before
        this consumer's pending events are read again, so it is not yielded twice."""
        outage = self.outage or Outage(RideOut(0.0), self.stream)
        backlog, unacked, lost = True, list[bytes](), False
        while True:
            try:
                if lost:
                    gone = self.recreate_group()
                    lost = False
                    if gone and self.forgotten is not None:
                        yield from self.forgotten()
                if unacked:
                    self.client.xack(self.stream, self.group, *unacked)
                    unacked.clear()
                if backlog:
                    entries = self.read("0", None)
                    backlog = bool(entries)
                else:
                    entries = self.take_over() or self.read(">", self.block_ms)
                outage.over()
            except PoolExhausted:
                continue
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    outage.failed(exc)
                    continue
                lost, backlog = True, True
                continue
            except redis.RedisError as exc:
                outage.failed(exc)  # waits, or raises FleetUnreachable
                backlog = True
                continue
            for entry_id, fields in entries:
                if self.last_id is None or entry_order(entry_id) > entry_order(self.last_id):
                    self.last_id = entry_id
                # An event trimmed while pending comes back without its fields.
                if fields and (result := self.decode(entry_id, fields)) is not None:
                    yield result
                try:
                    self.client.xack(self.stream, self.group, entry_id)
                except redis.RedisError:
                    unacked.append(entry_id)  # acknowledged once Redis answers again
                    backlog = True
                    break

    def read(self, start: str, block_ms: int | None) -> list[Any]:
        streams: Any = {self.stream: start}
        reply: Any = self.client.xreadgroup(
            self.group, self.consumer, streams, count=self.count, block=block_ms
        )
        entries: list[Any] = reply[0][1] if reply else []
        if start == "0":  # this consumer's own, delivered again: may be the one that kills it
            return self.without_overdelivered(entries, self.consumer)
        return entries

    def take_over(self) -> list[Any]:
        """Events idle past the bound on other consumers, now this one's."""
        idle_ms = int(self.redelivery.idle_after * 1000)
        pending: Any = self.client.xpending_range(
            self.stream, self.group, min="-", max="+", count=self.count, idle=idle_ms
        )
        ids = [
            p["message_id"]
            for p in pending
            if p["consumer"].decode() != self.consumer and not self.park_if_overdelivered(p)
        ]
        if not ids:
            return []
        claimed: Any = self.client.xclaim(self.stream, self.group, self.consumer, idle_ms, ids)
        if claimed:
            log.warning(
                "took over %d event(s) left unacknowledged past %.0f s by another consumer "
                "of group %s",
                len(claimed),
                self.redelivery.idle_after,
                self.group,
            )
        return list(claimed)

    def without_overdelivered(self, entries: list[Any], consumer: str) -> list[Any]:
        if not entries:
            return entries
        pending: Any = self.client.xpending_range(
            self.stream,
            self.group,
            min=entries[0][0],
            max=entries[-1][0],
            count=len(entries),
            consumername=consumer,
        )
        parked = {p["message_id"] for p in pending if self.park_if_overdelivered(p)}
        return [e for e in entries if e[0] not in parked]

    def park_if_overdelivered(self, pending: dict[str, Any]) -> bool:
        """Park an event delivered too often; True if it was."""
        deliveries = int(pending["times_delivered"])
        if deliveries < self.redelivery.max_deliveries:
            return False
        entry_id = pending["message_id"]
        entries: Any = self.client.xrange(self.stream, entry_id, entry_id)
        fields = dict(entries[0][1]) if entries else {}
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.parked,
                {
                    **fields,
                    "event_id": entry_id,
                    "group": self.group,
                    "consumer": pending["consumer"],
                    "deliveries": deliveries,
                },
                maxlen=1000,
                approximate=True,
            )
            pipe.xack(self.stream, self.group, entry_id)
            pipe.hincrby(keys.COUNTERS, self.stream.removeprefix(keys.PREFIX) + "_parked", 1)
            pipe.execute()
        log.error(
            "entry %s parked in %s after %d deliveries in group %s: it never got acknowledged",
            entry_id.decode(),
            self.parked,
            deliveries,
            self.group,
        )
        return True

    def recreate_group(self) -> bool:
        """The group is gone while this consumer read it (Redis restarted empty, an
        operator, a FLUSHALL): say so and create it again after the newest event this
        consumer read, so that events published since are delivered and none twice; from
        new events on if it read none. True if the stream lost what this consumer read
        (Redis came back without it), not just the group."""
        gone = False
        if self.last_id is not None:
            gone = not self.client.xrange(self.stream, self.last_id, self.last_id)
        start = self.last_id.decode() if self.last_id is not None else "$"
        log.warning(
            "consumer group %s of %s is gone (Redis restarted empty, or it was deleted); "
            "created again after event %s",
            self.group,
            self.stream,
            start,
        )
        try:
            self.client.xgroup_create(self.stream, self.group, id=start, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):  # another consumer of the group was first
                raise
        return gone


def create_group(client: redis.Redis, group: str, since: str, stream: str = keys.EVENTS) -> None:
    try:
        client.xgroup_create(stream, group, id=since, mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise FleetUnreachable(f"cannot create consumer group {group}: {exc}") from exc
    except redis.RedisError as exc:
        raise FleetUnreachable(f"cannot create consumer group {group}: {exc}") from exc
