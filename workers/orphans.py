"""What RQ still believes of workers that died without a word (SIGKILL, power loss).

RQ notices such a job only when its registry entry expires (job timeout + 60 s) and a
worker's maintenance pass runs (every 10 minutes): until then ``rq info`` shows it as
started. The fleet knows sooner: the job's worker has no heartbeat. Such entries are
marked expired and handed to RQ's own cleanup, which records them as abandoned in the
failed registry exactly as it would later. The dead worker itself stays in ``rq info``,
busy, for RQ's worker TTL plus a minute (8 minutes): its death is registered as its own
goodbye would have, through RQ's public ``register_death``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer

from is21.protocol.connection import server_ms
from is21.schemas import keys

log = logging.getLogger(__name__)


def fail_orphaned_jobs(client: redis.Redis, queue: str) -> list[str]:
    """Ids of the started jobs whose worker has no live heartbeat, now failed."""
    registry = StartedJobRegistry(queue, connection=client, serializer=JSONSerializer)
    entries: Any = client.zrange(registry.key, 0, -1)
    if not entries:
        return []
    names: Any = client.zrangebyscore(keys.WORKERS, server_ms(client), "+inf")
    live = {n.decode() for n in names}
    orphans = []
    for entry in entries:
        job_id = registry.parse_job_id(entry.decode())
        worker: Any = client.hget(Job.key_for(job_id), "worker_name")
        if worker and worker.decode() not in live:
            client.zadd(registry.key, {entry: 0}, xx=True)
            orphans.append(job_id)
    if orphans:
        log.warning("jobs of dead workers moved to the failed registry: %s", orphans)
        registry.cleanup()
    return orphans


def retire_dead_workers(client: redis.Redis, queue: str, grace_s: float) -> list[str]:
    """Names of the workers RQ lists on ``queue`` that have no fleet heartbeat and were
    born over ``grace_s`` ago (a starting worker registers with RQ a moment before its
    first heartbeat), now registered dead."""
    names: Any = client.zrangebyscore(keys.WORKERS, server_ms(client), "+inf")
    live = {n.decode() for n in names}
    born_before = datetime.now(UTC) - timedelta(seconds=grace_s)
    dead = [
        w
        for w in Worker.all(connection=client, queue=Queue(queue, connection=client))
        if w.name not in live and w.birth_date is not None and w.birth_date < born_before
    ]
    for worker in dead:
        register_death = cast(Callable[[], None], worker.register_death)  # untyped in RQ
        register_death()
    if dead:
        log.warning("workers without a heartbeat removed from rq info: %s", [w.name for w in dead])
    return [w.name for w in dead]
