"""The one reader of cameras' results streams: ``FrameProducer.results()``, the bench and
the soak all read through it.

It keeps the id of the last entry it read per camera and asks Redis for what came after,
several cameras in one XREAD. A camera it starts following is read from its last entry
at that moment ('$', pinned to an id: XREAD's own '$' would drop what arrives between two
reads), or from any id given, such as '0-0' for a camera new since the reader started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import redis

from is21.producer.outage import Outage
from is21.protocol.connection import PoolExhausted
from is21.schemas import codec, keys
from is21.schemas.results import Result

log = logging.getLogger(__name__)


def result_from_entry(fields: dict[bytes, bytes]) -> Result:
    return codec.decode(fields[b"data"], Result)


class ResultsReader:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.after: dict[str, str] = {}  # camera id -> id of the last entry read
        # Entries that are not results (written by something else): skipped, logged and
        # counted here rather than raised into the camera loop.
        self.junk = 0

    def follow(self, cameras: Iterable[str], start: str = "$") -> None:
        """Read these cameras too, from ``start``; cameras already followed stay put."""
        new = [cam for cam in cameras if cam not in self.after]
        if start != "$":
            self.after.update(dict.fromkeys(new, start))
            return
        pipe = self.client.pipeline(transaction=False)
        for cam in new:
            pipe.xrevrange(keys.results(cam), count=1)
        for cam, last in zip(new, pipe.execute(), strict=True):
            self.after[cam] = last[0][0].decode() if last else "0-0"

    def read(self, block_ms: int | None = None) -> list[tuple[str, list[Result]]]:
        """What came since the last read, per camera, oldest first; waits up to
        ``block_ms`` for something (None: not at all). Raises ``redis.RedisError``."""
        if not self.after:
            return []
        streams: Any = {keys.results(cam): last for cam, last in self.after.items()}
        reply: Any = self.client.xread(streams, block=block_ms)
        prefix = len(keys.results(""))
        out = []
        for stream, entries in reply or []:
            cam = stream.decode()[prefix:]
            results = []
            for entry_id, fields in entries:
                self.after[cam] = entry_id.decode()
                if (result := self.decode(entry_id, fields)) is not None:
                    results.append(result)
            out.append((cam, results))
        return out

    def decode(self, entry_id: bytes, fields: dict[bytes, bytes]) -> Result | None:
        """A result, or None (logged and counted) for an entry that is not one."""
        try:
            return result_from_entry(fields)
        except (KeyError, codec.CodecError) as exc:
            self.junk += 1
            log.warning("skipped results entry %s, not a result: %s", entry_id.decode(), exc)
            return None

    def stream(
        self,
        cameras: list[str] | None,
        every_camera: Callable[[], list[str]],
        since: str,
        block_ms: int,
        refresh: float,
        outage: Outage,
        junk: Callable[[int], None],
    ) -> Iterator[Result]:
        """``FrameProducer.results``: these cameras' results, or every camera's (re-read
        every ``refresh`` seconds), as they come; Redis going away is ridden out from the
        positions read (``outage``); entries that are not results go to ``junk``."""
        start, next_refresh = since, 0.0
        while True:
            try:
                if not self.after or (cameras is None and time.monotonic() >= next_refresh):
                    next_refresh = time.monotonic() + refresh
                    self.follow(cameras if cameras is not None else every_camera(), start)
                    # '$' is pinned once, at the start; every camera found later is new.
                    start = since if since != "$" else "0-0"
                if not self.after:
                    time.sleep(block_ms / 1000)
                    continue
                batches = self.read(block_ms)
                outage.over()
            except PoolExhausted:
                continue
            except redis.RedisError as exc:
                outage.failed(exc)  # waits, or raises FleetUnreachable
                continue
            finally:
                junk(self.junk)
                self.junk = 0
            for _cam, results in batches:
                yield from results
