"""``is21 retention``: trim the streams by age so that Redis never fills up.

XTRIM MINID is atomic per stream, so this runs safely beside producers and workers. A
camera's newest frame is never trimmed: it may still be waiting for a worker, which will
either serve it or count it as expired, so every frame stays accounted for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from is21.protocol.connection import server_ms
from is21.schemas import keys
from is21.schemas.frames import camera_ids
from is21.schemas.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Trimmed:
    entries: int = 0
    bytes: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    kinds: dict[str, Trimmed] = field(
        default_factory=lambda: {
            k: Trimmed() for k in ("frames", "results", "events", "incidents", "snapshots")
        }
    )
    # Keys that could not be trimmed (a wrong type, a bad member of is21:cameras): the
    # others are trimmed all the same, or one bad key would let Redis fill up.
    skipped: list[str] = field(default_factory=list)
    empty_streams: int = 0  # frame streams left empty by a client's XDEL, removed

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            **{k: {"entries": t.entries, "bytes": t.bytes} for k, t in self.kinds.items()},
            "skipped": self.skipped,
            "empty_streams": self.empty_streams,
        }

    def add(self, kind: str, trimmed: Trimmed) -> None:
        self.kinds[kind].entries += trimmed.entries
        self.kinds[kind].bytes += trimmed.bytes


def _count_before(client: redis.Redis, stream: str, minid: str) -> int:
    """Entries older than minid, counted in batches (used by --dry-run only)."""
    count, start = 0, "-"
    while True:
        batch: Any = client.xrange(stream, start, f"({minid}", count=1000)
        if not batch:
            return count
        count += len(batch)
        start = "(" + batch[-1][0].decode()


def _ms(stream_id: str) -> int:
    return int(stream_id.split("-", 1)[0])


def _usage(client: redis.Redis, stream: str) -> int:
    used: Any = client.memory_usage(stream)
    return int(used or 0)


def trim(
    client: redis.Redis, stream: str, minid: str, dry_run: bool, maxlen: int | None = None
) -> Trimmed:
    before_len = int(client.xlen(stream))
    if before_len == 0:
        return Trimmed()
    before = _usage(client, stream)
    if dry_run:
        old = _count_before(client, stream, minid)
        if maxlen is not None:
            old = max(old, before_len - maxlen)
        return Trimmed(old, before * old // before_len)
    removed = int(client.xtrim(stream, minid=minid, approximate=False))
    if maxlen is not None:
        removed += int(client.xtrim(stream, maxlen=maxlen, approximate=False))
    return Trimmed(removed, max(0, before - _usage(client, stream)) if removed else 0)


def run_retention(client: redis.Redis, settings: Settings, *, dry_run: bool) -> RetentionReport:
    now = int(server_ms(client))
    report = RetentionReport(dry_run)

    def minid(age_seconds: float) -> str:
        return f"{max(0, now - int(age_seconds * 1000))}-0"

    def frames_cutoff(stream: str) -> str:
        cutoff = minid(settings.retain_frames)
        newest: Any = client.xrevrange(stream, count=1)
        if newest and _ms(newest[0][0].decode()) < _ms(cutoff):
            return str(newest[0][0].decode())  # never the newest frame (see module doc)
        return cutoff

    def guarded(kind: str, stream: str, mid: Callable[[str], str], maxlen: int | None) -> None:
        try:
            report.add(kind, trim(client, stream, mid(stream), dry_run, maxlen))
        except redis.ResponseError as exc:
            log.warning("retention skipped %s: %s", stream, exc)
            report.skipped.append(f"{stream}: {exc}")

    members: Any = client.smembers(keys.CAMERAS)
    for cam in camera_ids(members, report.skipped):
        guarded("frames", keys.frames(cam), frames_cutoff, settings.frame_maxlen)
        guarded("results", keys.results(cam), lambda _: minid(settings.retain_results), None)
    guarded("events", keys.EVENTS, lambda _: minid(settings.retain_events), None)
    guarded("incidents", keys.INCIDENTS, lambda _: minid(settings.retain_incidents), None)
    try:
        report.add("snapshots", trim_snapshots(client, settings.snapshots_max, dry_run))
    except redis.ResponseError as exc:
        log.warning("retention skipped %s: %s", keys.SNAPSHOTS, exc)
        report.skipped.append(f"{keys.SNAPSHOTS}: {exc}")
    report.empty_streams = drop_empty_frame_streams(client, dry_run)
    return report


def trim_snapshots(client: redis.Redis, keep: int, dry_run: bool) -> Trimmed:
    """Incidents' best frames: each has a TTL, and at most ``keep`` are kept, the oldest
    dropped first, so that a burst of incidents cannot fill Redis with JPEGs within a
    TTL. is21:snapshots indexes them (no SCAN); those past their TTL leave the index."""
    trimmed = Trimmed()
    listed: Any = client.zrange(keys.SNAPSHOTS, 0, -1)
    pipe = client.pipeline(transaction=False)
    for key in listed:
        pipe.memory_usage(key)
    sizes = dict(zip(listed, pipe.execute(), strict=True))
    gone = [k for k in listed if sizes[k] is None]
    alive = [k for k in listed if sizes[k] is not None]
    over = alive[: max(0, len(alive) - keep)]
    trimmed.entries, trimmed.bytes = len(over), sum(int(sizes[k]) for k in over)
    if not dry_run and (gone or over):
        client.zrem(keys.SNAPSHOTS, *gone, *over)
        if over:
            client.delete(*over)
    return trimmed


def drop_empty_frame_streams(client: redis.Redis, dry_run: bool) -> int:
    """A client deletes a frame that is21_register refused (XDEL), which leaves its stream
    behind, empty, often of a camera never registered. Removed only if still empty when
    Redis deletes it (one script), so a frame added meanwhile is kept."""
    removed = 0
    for key in client.scan_iter(match=keys.frames("*"), count=500, _type="stream"):
        if dry_run:
            removed += int(client.xlen(key)) == 0
        else:
            removed += int(client.eval(DROP_IF_EMPTY, 1, key))
    return removed


DROP_IF_EMPTY = (
    "if redis.call('XLEN', KEYS[1]) == 0 then return redis.call('DEL', KEYS[1]) end return 0"
)
