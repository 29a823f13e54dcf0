"""A worker's proof of life, refreshed from a thread, and dispatch's safety net.

RQ's own worker keys are refreshed only between jobs, and a dispatch job lasts tens of
seconds, so liveness needs its own short-lived key written independently of the job.

The same thread re-checks dispatch after every beat: a job whose worker died, or that was
dequeued by a worker stopping at that instant, holds a lease that simply runs out, and
with no frame arriving nothing else would notice. So every live worker restores "one job
per live worker" within a lease plus one beat, whatever the traffic.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from is21.protocol.functions import Call, call_functions
from is21.schemas import keys
from is21.workers import watchdog

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(
        self,
        client: redis.Redis,
        name: str,
        status: Callable[[], dict[str, Any]],
        *,
        ttl: float,
        interval: float,
        after_beat: Callable[[], None],
        healthy: Callable[[], bool] = lambda: True,
        protocol: dict[str, int] | None = None,
    ) -> None:
        self.client, self.name, self.status = client, name, status
        self.protocol = [v for field in (protocol or {}).items() for v in field]
        self.after_beat, self.healthy = after_beat, healthy
        self.ttl_ms, self.interval = int(ttl * 1000), interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="is21-heartbeat", daemon=True)

    def beat(self) -> None:
        beat = Call(
            "is21_beat",
            [keys.heartbeat(self.name), keys.WORKERS, keys.PROTOCOL, keys.ANSWERING],
            [
                self.name,
                json.dumps(self.status()),
                self.ttl_ms,
                "0" if self.healthy() else "1",
                *self.protocol,
            ],
        )
        call_functions(self.client, [beat])

    def start(self) -> None:
        self.beat()
        self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.healthy():  # Redis or not: the watchdog watches inference only
                watchdog.notify("WATCHDOG=1")
            try:
                self.beat()
                self.after_beat()
            except redis.RedisError as exc:
                log.warning("heartbeat failed: %s", exc)
            except Exception:  # the thread must outlive any single bad beat
                log.exception("heartbeat or dispatch check failed")

    def stop(self) -> None:
        """Say goodbye at once, so dispatch stops counting this worker.

        Only a heartbeat that started may: a worker refused at start (RQ refuses a second
        worker under a live one's name) would otherwise delete the live one's liveness.
        """
        self._stop.set()
        if not self.started:
            return
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 1)
        try:
            self.client.delete(keys.heartbeat(self.name))
            self.client.zrem(keys.WORKERS, self.name)
            self.client.zrem(keys.ANSWERING, self.name)
            self.client.zrem(keys.SEEN, self.name)  # a stop asked for: not missing
        except redis.RedisError as exc:
            log.warning("heartbeat cleanup failed: %s", exc)


def predecessor_dead(client: redis.Redis, name: str, timeout: float) -> bool:
    """Whether the last worker under ``name`` is dead: its heartbeat key expires rather
    than being refreshed. Waits for one or the other, up to ``timeout`` (the TTL): a
    live worker shows itself within one beat, a dead one within its key's TTL."""
    key = keys.heartbeat(name)
    deadline = time.monotonic() + timeout
    last: int = client.pttl(key)
    while last >= 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now: int = client.pttl(key)
        if now > last + 50:
            return False  # refreshed: someone beats under this name
        last = now
    return last < 0
