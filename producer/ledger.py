"""What a producer submitted, to account for every frame after a fault.

Redis replication is asynchronous: a master that acknowledged a frame can die before its
replica has it, and the promoted replica never saw the frame. Only the producer knows
that frame existed. With a ledger it can say, per camera, what became of each frame it
submitted: answered (by its own result), superseded (a newer frame of its camera was
served, or it expired), never stored (the producer's own no_event), still waiting, or
lost in a failover: stored, unanswered, and absent from a stream that still holds
entries that old.

Results streams are capped (``IS21_RESULTS_MAXLEN``), so after a long run the oldest
results are gone from Redis; a ledger that is also told the results the camera server
read (``answer``) still counts those frames as answered, not as superseded.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis

from is21.producer.ticket import Ticket
from is21.schemas import keys
from is21.schemas.results import Result


@dataclass
class Account:
    """One camera's frames by fate; ``lost`` names the frame ids."""

    submitted: int = 0
    fallback: int = 0  # never stored: the producer answered no_event itself
    processed: int = 0
    failed: int = 0
    superseded: int = 0  # skipped for a newer frame, or expired
    lost: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        total = self.fallback + self.processed + self.failed + self.superseded + len(self.lost)
        return self.submitted == total


class Ledger:
    """Keeps every ticket: for a bounded run (a test, a chaos run, an audit window), not
    for a camera server's lifetime. A camera server submits from one thread and reads
    results in another, so both may tell it at once while it reconciles."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tickets: list[Ticket] = []
        # camera -> frame id -> status of the result read: entry ids are per stream
        self.answered: dict[str, dict[str, str]] = defaultdict(dict)

    def record(self, ticket: Ticket) -> None:
        with self._lock:
            self.tickets.append(ticket)

    def answer(self, result: Result) -> None:
        """A result the camera server read, kept in case its stream is trimmed later."""
        with self._lock:
            self.answered[result.camera_id][result.frame_id] = result.status

    def reconcile(
        self,
        client: redis.Redis,
        since: float = 0.0,
        lost: frozenset[tuple[str, str]] = frozenset(),
    ) -> dict[str, Account]:
        """Every recorded frame's fate (submitted at or after ``since``, a wall time), from
        what Redis holds now (the fleet idle). ``lost``: frames found lost earlier, right
        after a failover, while their streams still reached back to them, as (camera,
        frame id): entry ids are per stream, two cameras' frames can share one."""
        by_camera: dict[str, list[Ticket]] = defaultdict(list)
        with self._lock:
            for t in self.tickets:
                if t.submitted_at >= since:
                    by_camera[t.camera_id].append(t)
        return {cam: self._account(client, cam, ts, lost) for cam, ts in sorted(by_camera.items())}

    def _account(
        self,
        client: redis.Redis,
        camera: str,
        tickets: list[Ticket],
        known_lost: frozenset[tuple[str, str]],
    ) -> Account:
        results: Any = client.xrange(keys.results(camera))
        status = {f[b"frame_id"].decode(): f[b"status"].decode() for _id, f in results}
        with self._lock:
            status.update(self.answered.get(camera, {}))
        frames: Any = client.xrange(keys.frames(camera))
        present = {entry_id.decode() for entry_id, _f in frames}
        oldest = min((_id_key(i) for i in present), default=None)
        account = Account()
        for t in tickets:
            account.submitted += 1
            if t.fallback is not None:
                account.fallback += 1
            elif (camera, t.frame_id) in known_lost:
                account.lost.append(t.frame_id)
            elif t.frame_id in status:
                if status[t.frame_id] == "ok":
                    account.processed += 1
                else:
                    account.failed += 1
            elif t.frame_id in present or (oldest is not None and _id_key(t.frame_id) < oldest):
                account.superseded += 1  # still there, or trimmed as older frames are
            else:
                account.lost.append(t.frame_id)
        return account


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
