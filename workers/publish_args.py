"""What ``is21_publish`` writes beside a frame's result, as its arguments: the change
gate's new reference (``workers/gate``) and the camera's tracks and incidents
(``workers/incidents``). Kept apart from the claims so that each stage's part of the
one round trip is read in one place (``protocol/publish.lua`` names every position)."""

from __future__ import annotations

from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.gate import Looked
from is21.workers.incidents.follow import Followed


def gate_args(result: Result, looked: Looked) -> list[bytes | str | int | float]:
    """ARGV 16 to 19: the gate's new reference, whether the frame was gated, and the
    gate's time for its histogram."""
    ms = looked.ms
    return [
        looked.reference,
        int(result.gated),
        "" if ms is None else keys.bucket(ms, keys.GATE_BUCKETS_MS),
        "" if ms is None else round(ms, 3),
    ]


def incident_args(followed: Followed | None, settings: Settings) -> list[bytes | str | int]:
    """ARGV 20 on: the camera's state, its incidents, the snapshot."""
    if followed is None:
        return ["", "", settings.incidents_maxlen, 0, "", 0, 0]
    return [
        followed.state,
        "" if followed.due_ms is None else followed.due_ms,
        settings.incidents_maxlen,
        int(settings.snapshot_ttl * 1000),
        followed.jpeg if followed.best_of else "",
        len(followed.best_of),
        *followed.best_of,
        *followed.args(),
    ]
