"""The reading side of ``FrameProducer``: results as they come, events and incidents
through consumer groups, an incident's snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import redis

from is21.producer.events import (
    DEFAULT_REDELIVERY,
    EventReader,
    Redelivery,
    T,
    create_group,
)
from is21.producer.incidents import OpenIncidents
from is21.producer.outage import Outage, RideOut
from is21.producer.reader import ResultsReader
from is21.schemas import keys
from is21.schemas.frames import camera_ids
from is21.schemas.incidents import IncidentMessage
from is21.schemas.results import Result
from is21.schemas.settings import Settings


class Reading:
    client: redis.Redis
    settings: Settings
    # Entries in result streams that are not results (written by something else):
    # skipped, logged and counted here rather than raised into the camera loop.
    junk_results: int

    def _decode(self, entry_id: bytes, fields: dict[bytes, bytes]) -> Result | None:
        """A result, or None (logged and counted) for an entry that is not one."""
        reader = ResultsReader(self.client)
        result = reader.decode(entry_id, fields)
        self.junk_results += reader.junk
        return result

    def latest_result(self, camera_id: str) -> Result | None:
        entries: Any = self.client.xrevrange(keys.results(camera_id), count=1)
        return self._decode(*entries[0]) if entries else None

    def cameras(self) -> list[str]:
        members: Any = self.client.smembers(keys.CAMERAS)
        return camera_ids(members)

    def results(
        self,
        camera_ids: Iterable[str] | None = None,
        *,
        since: str = "$",
        block: float = 1.0,
        refresh: float = 5.0,
        ride_out: RideOut | None = None,
    ) -> Iterator[Result]:
        """Yield results as they are published, for the given cameras or all of them.

        With no camera ids the set of cameras is re-read every ``refresh`` seconds, so a
        camera that starts streaming later is picked up without a restart, and read from
        its first result: its stream did not exist when the iterator started. A failover
        or a restart is ridden out from where it was read (``ride_out``, by default
        ``IS21_READER_GIVE_UP`` seconds); past that, ``FleetUnreachable``.
        """
        cameras = list(camera_ids) if camera_ids is not None else None
        block_ms = max(1, int(min(block, self.settings.redis_timeout / 2) * 1000))
        outage = Outage(ride_out or RideOut(self.settings.reader_give_up), "results")
        return ResultsReader(self.client).stream(
            cameras, self.cameras, since, block_ms, refresh, outage, self._junk
        )

    def _junk(self, count: int) -> None:
        self.junk_results += count

    def events(
        self,
        group: str,
        consumer: str,
        *,
        since: str = "$",
        block: float = 1.0,
        count: int = 10,
        redelivery: Redelivery = DEFAULT_REDELIVERY,
        ride_out: RideOut | None = None,
    ) -> Iterator[Result]:
        """Every event of every camera through a consumer group on is21:events, at least
        once: a restarted consumer gets its unacknowledged events again, a dead one's are
        taken over (producer/events.py). ``since``: where a new group starts ('$': from
        now, '0': every event kept); ``count``: events taken per read; a failover or a
        restart is ridden out as for ``results``."""
        reader = EventReader(
            self.client, group, consumer, 0, count, self._decode, redelivery, stream=keys.EVENTS
        )
        return self._read_group(reader, since, block, ride_out)

    def incidents(
        self,
        group: str,
        consumer: str,
        *,
        since: str = "$",
        block: float = 1.0,
        count: int = 10,
        redelivery: Redelivery = DEFAULT_REDELIVERY,
        ride_out: RideOut | None = None,
    ) -> Iterator[IncidentMessage]:
        """Every incident message (``new``, ``update``, ``end``) of every camera through a
        consumer group on is21:incidents, at least once, as ``events`` reads events:
        what a camera server stores, one entry per incident instead of one per frame."""
        seen = OpenIncidents()
        reader = EventReader(
            self.client,
            group,
            consumer,
            0,
            count,
            seen.decode,
            redelivery,
            stream=keys.INCIDENTS,
            forgotten=seen.forgotten,
        )
        return self._read_group(reader, since, block, ride_out)

    def _read_group(
        self, reader: EventReader[T], since: str, block: float, ride_out: RideOut | None
    ) -> Iterator[T]:
        create_group(self.client, reader.group, since, reader.stream)  # from this call on
        reader.block_ms = max(1, int(min(block, self.settings.redis_timeout / 2) * 1000))
        name = reader.stream.removeprefix(keys.PREFIX)
        reader.outage = Outage(ride_out or RideOut(self.settings.reader_give_up), name)
        return iter(reader)

    def snapshot(self, incident_id: str) -> bytes | None:
        """An incident's best frame (a JPEG), while Redis keeps it (``IS21_SNAPSHOT_TTL``)."""
        data: Any = self.client.get(keys.snapshot(incident_id))
        return None if data is None else bytes(data)
