"""The ``end`` of incidents whose camera went silent: no frame comes to end them, so
every worker's heartbeat thread looks for cameras past their due time (a sorted set, no
SCAN) and ends theirs with a compare-and-set (``protocol/sweep.lua``). Two workers
sweeping at once, or a frame's publish racing the sweep, end an incident once."""

from __future__ import annotations

import logging
from typing import Any

import redis

from is21.protocol.functions import Call, call_functions
from is21.schemas import keys
from is21.schemas.events import EventSchema
from is21.schemas.results import PROTOCOL_VERSION
from is21.schemas.settings import Settings
from is21.workers.incidents.follow import sweep_state
from is21.workers.track import TrackRules

log = logging.getLogger(__name__)

BATCH = 32  # cameras a beat sweeps at most; the rest wait for the next beat


def sweep(client: redis.Redis, settings: Settings, schema: EventSchema) -> int:
    """End what is due; the number of incidents ended."""
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    due: Any = client.zrangebyscore(keys.INCIDENTS_DUE, "-inf", int(now * 1000), 0, BATCH)
    ended = 0
    for member in due:
        camera = member.decode("utf-8", "replace")
        state: Any = client.get(keys.tracks(camera))
        rules = TrackRules.of(schema.tracking_for(camera))
        # Nothing may be due after all (a longer end_after pushed since): then the call
        # just moves the camera's due time, under the same compare-and-set.
        followed = sweep_state(state or b"", now, rules)
        call = Call(
            "is21_sweep",
            [
                keys.tracks(camera),
                keys.camera(camera),
                keys.INCIDENTS,
                keys.INCIDENTS_OPEN,
                keys.INCIDENTS_DUE,
            ],
            [
                camera,
                state or b"",
                followed.state,
                "" if followed.due_ms is None else followed.due_ms,
                settings.incidents_maxlen,
                PROTOCOL_VERSION,
                *followed.args(),
            ],
        )
        (applied,) = call_functions(client, [call])
        if applied == 1:
            ended += len(followed.messages)
            for message in followed.messages:
                log.info(
                    "incident %s ended: camera %s silent past end_after",
                    message["id"],
                    camera,
                    extra={"camera_id": camera, "incident": message["id"]},
                )
    return ended
