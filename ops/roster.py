"""``is21 workers``: the workers the fleet expects, alive or missing, and forgetting one
that was retired.

A worker is expected from its first heartbeat (``is21:workers:seen``) until it says
goodbye (a stop asked for: ``systemctl stop``, SIGTERM), or is forgotten here, or has
been gone for ``IS21_FORGET_WORKERS_AFTER``. One that vanished without a goodbye (SIGKILL,
the OOM killer, a board losing power) is *missing*: named in ``/healthz`` and
``is21 status``, and alerted on after a minute (``Is21WorkerMissing``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import redis

from is21.ops.fleet_state import live_workers
from is21.ops.problems import ago, read_seen
from is21.schemas import keys
from is21.schemas.settings import Settings


class StillAlive(ValueError):
    """A worker to forget that beats: stop it first, or it is back at its next beat."""


@dataclass
class Member:
    worker: str
    alive: bool
    last_seen: str  # ISO 8601, UTC
    last_seen_s: float  # seconds ago
    host: str | None = None
    npu_core: str | None = None


def roster(client: redis.Redis, settings: Settings) -> list[Member]:
    seen, now = read_seen(client)
    beats = {str(w.get("worker")): w for w in live_workers(client)}
    members = []
    for name in sorted(set(seen) | set(beats)):
        last = seen.get(name, now)
        age = max(0.0, (now - last) / 1000)
        if name not in beats and age > settings.forget_workers_after:
            continue
        beat = beats.get(name, {})
        members.append(
            Member(
                worker=name,
                alive=name in beats,
                last_seen=datetime.fromtimestamp(last / 1000, UTC).isoformat(),
                last_seen_s=round(age, 1),
                host=beat.get("host"),
                npu_core=beat.get("npu_core"),
            )
        )
    return members


def forget(client: redis.Redis, names: list[str]) -> list[str]:
    """Stop expecting these workers; the ones that were expected."""
    alive = {str(w.get("worker")) for w in live_workers(client)}
    if beating := sorted(set(names) & alive):
        raise StillAlive(f"{', '.join(beating)} still beats: stop it first (a goodbye forgets it)")
    return [n for n in names if client.zrem(keys.SEEN, n)]


def table(members: list[Member]) -> str:
    if not members:
        return "no worker expected: none has beaten since Redis started, or all said goodbye"
    lines = [f"{'worker':<28} {'state':<8} {'last heartbeat':>15}  host/core"]
    for m in members:
        state = "alive" if m.alive else "MISSING"
        where = f"{m.host or '-'}/{m.npu_core if m.npu_core is not None else '-'}"
        lines.append(f"{m.worker:<28} {state:<8} {ago(m.last_seen_s) + ' ago':>15}  {where}")
    return "\n".join(lines)


def as_json(members: list[Member]) -> str:
    return json.dumps([asdict(m) for m in members])
