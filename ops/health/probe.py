"""One snapshot of the fleet per ``/healthz`` probe: live heartbeats read once, the schema,
the problems; a Redis that does not answer is itself part of the snapshot."""

from __future__ import annotations

import time

import redis

from is21.ops.fleet_state import live_workers
from is21.ops.health.decision import Snapshot
from is21.ops.problems import read_problems
from is21.protocol.schema_store import SchemaError, load_schema
from is21.schemas.settings import Settings


def read_snapshot(client: redis.Redis, settings: Settings, started: float) -> Snapshot:
    """``started``: the monotonic time this endpoint started (its uptime)."""
    uptime = time.monotonic() - started
    try:
        workers = live_workers(client)
        try:
            version: str | None = load_schema(client).version
        except SchemaError as exc:
            return Snapshot(workers=workers, uptime_s=uptime, bad_schema=str(exc))
        problems = read_problems(client, settings, workers)
    except redis.RedisError as exc:
        return Snapshot(uptime_s=uptime, unreachable=str(exc) or type(exc).__name__)
    return Snapshot(workers, version, problems, uptime)
