"""The RQ worker class of the fleet: one process that keeps its detectors loaded.

RQ's default ``Worker`` forks a child per job, which would reload the model for every job;
``SimpleWorker`` runs jobs in the process that already holds the models. The serializer is
JSON (``start.py``): a job payload is data, never code.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

import redis
from rq import Queue, SimpleWorker, worker_registration
from rq.job import Job
from rq.utils import now, utcformat

from is21.protocol.dispatch import SERVE_FUNCTION
from is21.schemas import keys
from is21.workers.core_health import EXIT_CODE
from is21.workers.engine import Engine
from is21.workers.heartbeat import predecessor_dead
from is21.workers.incidents.sweep import sweep
from is21.workers.job import serving
from is21.workers.orphans import fail_orphaned_jobs, retire_dead_workers

log = logging.getLogger(__name__)

# Seconds a worker asked to stop may take. With Redis up it needs well under one (the
# frame in hand is published, the cameras released); with Redis unreachable every
# goodbye (the heartbeat's, RQ's registry) would wait out timeouts and retries for
# minutes, and systemd would SIGKILL it at TimeoutStopSec (20 s) anyway.
STOP_GRACE = 5.0


class NameInUse(RuntimeError):
    """A live worker already runs under this name: two processes given one name or core."""


def report_failure(client: redis.Redis, name: str, error: str) -> None:
    """Leave the reason where /healthz and is21 status look (ops/problems.py), for a
    minute; best effort."""
    now_s = time.time()
    try:
        with client.pipeline(transaction=False) as pipe:
            record = {"worker": name, "error": error, "at": now_s}
            pipe.set(keys.worker_error(name), json.dumps(record), ex=60)
            pipe.zadd(keys.WORKER_ERRORS, {name: now_s})
            pipe.zremrangebyscore(keys.WORKER_ERRORS, "-inf", now_s - 3600)  # stays small
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not record the start failure in Redis: %s", exc)


class FleetWorker(SimpleWorker):
    """RQ's SimpleWorker with the fleet's rules, through RQ's public methods only: which
    jobs it runs, when it announces itself, how it stops, how it takes a dead worker's
    name. Built by ``start.build_worker``, which gives it its engine."""

    engine: Engine
    _dead = False
    _announced = False

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        if not self._announced:
            self._announced = True
            self.announce()
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

    def announce(self) -> None:
        """Start the heartbeat once RQ has registered the worker (a second worker under a
        live one's name is refused before this, and must not touch its liveness) and
        SIGTERM reaches ``request_stop``: a worker killed by a bare SIGTERM before this
        point has left nothing behind. A stop requested meanwhile raises StopRequested,
        which RQ's loop, the caller, turns into a clean stop."""
        self.engine.heartbeat.start()
        # A new worker raises the number of jobs dispatch wants; ask for one now rather
        # than waiting for the next submitted frame.
        self.engine.dispatcher.ensure_jobs()
        self.log.info("worker %s ready: %s", self.name, self.engine.model)

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the fleet's dispatch job and nothing else.

        JSON keeps pickle off the wire, but a JSON job may still name any importable
        function (``os.system``...): whoever can write to the queue could run code here.
        Anything else goes to the failed registry with the reason, and is logged.
        """
        try:
            func = job.func_name
        except Exception as exc:  # a pickled or garbled payload: DeserializationError
            func = f"undecodable job data ({type(exc).__name__})"
        if func != SERVE_FUNCTION:
            self.log.error("refused job %s: %s is not the fleet's dispatch job", job.id, func)
            self.handle_job_failure(
                job, queue, exc_string=f"refused by is21: {func} is not {SERVE_FUNCTION}"
            )
            return
        with serving(self.engine):
            super().execute_job(job, queue)

    def after_beat(self) -> None:
        """Every heartbeat: check dispatch, that RQ still knows this worker (and no longer
        the dead), that Redis still holds the schema in force, and end the incidents of
        cameras gone silent."""
        self.engine.dispatcher.ensure_jobs()
        sweep(self.connection, self.engine.settings, self.engine.schema)
        self.ensure_registered()
        if self.engine.schema_cache is not None:
            self.engine.schema_cache.sync()
        grace = 2 * self.engine.heartbeat.ttl_ms / 1000
        for queue in self.queue_names():
            fail_orphaned_jobs(self.connection, queue)
            retire_dead_workers(self.connection, queue, grace)

    def ensure_registered(self) -> None:
        """After Redis restarts without its data, RQ's own heartbeat only refreshes keys
        that are gone, so ``rq info`` would have lost this worker for good: register it
        again (what ``register_birth`` does, minus its refusal of an existing key)."""
        if self._dead or self.connection.sismember(self.redis_workers_keys, self.key):
            return
        self.log.warning("worker %s was missing from RQ's registry; registered again", self.name)
        with self.connection.pipeline() as pipe:
            pipe.delete(self.key)
            pipe.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipe)
            pipe.expire(self.key, self.worker_ttl + 60)
            pipe.execute()

    def register_birth(self) -> None:
        """RQ refuses a name whose registration has no death: a worker killed without a
        goodbye (SIGKILL, the OOM killer, a board losing power) blocks its name for RQ's
        worker TTL plus a minute, 8 minutes, and systemd would restart it into that
        refusal over and over, its NPU core idle. The fleet's own heartbeat says within
        its TTL whether that worker lives; if not, its registration is marked dead and
        this one takes the name. A live worker under the name is still refused."""
        ttl = self.engine.heartbeat.ttl_ms / 1000
        if (
            self.connection.exists(self.key)
            and not self.connection.hexists(self.key, "death")
            and predecessor_dead(self.connection, self.name, ttl + 1)
        ):
            self.log.warning(
                "worker %s: the last worker under this name died without a goodbye "
                "(its heartbeat expired); taking its name",
                self.name,
            )
            self.connection.hset(self.key, "death", utcformat(now()))
        try:
            super().register_birth()  # type: ignore[no-untyped-call]
        except ValueError as exc:  # RQ's "There exists an active worker named ..."
            raise NameInUse(
                f"a live worker is already named {self.name}: two workers were given the "
                "same --name or --npu-core on this host"
            ) from exc

    def unsubscribe(self) -> None:
        """Leave RQ's command channel without waiting for its listener thread. RQ stops
        that thread after unsubscribing, and redis-py 8.2's ``stop()`` waits for it; the
        thread may just have read the unsubscribe and gone to wait up to 60 s (RQ's
        ``sleep_time``) for a subscription that will not come, so a stop took 5 s, cut
        by STOP_GRACE, without its goodbye. The thread is a daemon, and the worker exits."""
        if self.pubsub_thread is None:
            return
        self.log.info("worker %s: unsubscribing from %s", self.name, self.pubsub_channel_name)
        try:
            self.pubsub.unsubscribe()
        except redis.RedisError as exc:
            log.warning("could not unsubscribe from RQ's command channel: %s", exc)

    def register_death(self) -> None:
        self._dead = True  # from now on the heartbeat thread must not register it again
        super().register_death()  # type: ignore[no-untyped-call]

    def core_failed(self, reason: str) -> None:
        """Say so where operators look, then stop as for SIGTERM: the frame in hand is
        published, the cameras handed over; run_worker then exits non-zero."""
        report_failure(self.connection, self.name, reason)
        try:
            self.engine.heartbeat.beat()  # out of `is21:answering` before the goodbye
        except redis.RedisError as exc:
            log.warning("could not report the failed core in the heartbeat: %s", exc)
        self.request_stop(signal.SIGTERM, None)

    def request_stop(self, signum: int, frame: FrameType | None) -> Any:
        # Let the dispatch job finish the frame in hand and hand over, instead of
        # running out its whole budget before RQ's warm shutdown completes.
        self.engine.stopping.set()
        give_up = threading.Timer(STOP_GRACE, stop_now, args=(self.name, self.engine))
        give_up.daemon = True
        give_up.start()
        return super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def stop_now(name: str, engine: Engine) -> None:
    """The goodbye did not finish in time (Redis unreachable, a hung detection): leave
    without it. What it would have said expires by itself: the heartbeat within its TTL,
    the camera leases within theirs, RQ's registration with its own TTL."""
    log.error("worker %s did not stop within %.0f s: exiting without a goodbye", name, STOP_GRACE)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(0 if engine.core.failed is None else EXIT_CODE)
