"""The incidents open now, as ``is21:incidents:open`` keeps them: for ``is21 status``,
``/metrics`` and the alert on an incident open for an hour (almost always a false
positive to look at: a poster, a reflection, a statue the tracker thinks moves)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis

from is21.schemas import codec, keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenIncident:
    id: str
    camera_id: str
    kind: str
    since: float  # seconds, Redis's clock: when its first moving object was first seen
    tracks: int

    def open_s(self, now_ms: float) -> float:
        return max(0.0, now_ms / 1000 - self.since)


def read_open(client: redis.Redis, bad: list[str] | None = None) -> list[OpenIncident]:
    """Every open incident, oldest first; an entry that is not one is named in ``bad``."""
    try:
        raw: Any = client.hgetall(keys.INCIDENTS_OPEN)
    except redis.ResponseError as exc:
        if bad is not None:
            bad.append(f"{keys.INCIDENTS_OPEN}: {exc}")
        return []
    found = []
    for key, value in raw.items():
        try:
            record = codec.unpackb(value)
            found.append(
                OpenIncident(
                    str(record["id"]),
                    str(record["camera_id"]),
                    str(record["kind"]),
                    float(record["since"]),
                    len(record["tracks"]),
                )
            )
        except (codec.CodecError, KeyError, TypeError, ValueError) as exc:
            what = f"{keys.INCIDENTS_OPEN} field {key[:80]!r}"
            log.warning("bad fleet entry left out: %s: %s", what, exc)
            if bad is not None:
                bad.append(f"{what}: {exc}")
    return sorted(found, key=lambda i: i.since)
