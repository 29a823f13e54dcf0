"""RQ supervises the fleet; frames never ride inside RQ jobs.

A dispatch job is a long-lived RQ job that serves many frames (see ``workers/pipeline.py``),
so RQ's per-job bookkeeping (~5 ms, ~60 commands) is paid once per job budget instead of
once per frame. This module keeps the number of such jobs equal to the number of live
workers, using expiring leases in ``is21:jobs`` so that a crashed job never blocks
dispatch for longer than its lease.
"""

from __future__ import annotations

import uuid
from typing import Any

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from is21.protocol.functions import Call, call_functions
from is21.schemas import keys
from is21.schemas.settings import Settings

SERVE_FUNCTION = "is21.workers.job.serve"


def new_job_id() -> str:
    return "is21-" + uuid.uuid4().hex


class Dispatcher:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.queue = Queue(settings.queue, connection=client, serializer=JSONSerializer)

    def ensure_jobs(self, leaving: str = "") -> None:
        """Reserve and enqueue a job if fewer live jobs than workers exist."""
        candidate = new_job_id()
        args: list[Any] = [leaving, candidate, int(self.settings.job_queued_ttl * 1000)]
        call = Call("is21_ensure_jobs", [keys.JOBS, keys.WORKERS], args)
        (reserved,) = call_functions(self.client, [call])
        if reserved == 1:
            self.enqueue(candidate)

    def enqueue(self, job_id: str) -> None:
        self.queue.enqueue(
            SERVE_FUNCTION,
            job_id=job_id,
            job_timeout=int(self.settings.job_budget) + 60,
            ttl=int(self.settings.job_queued_ttl),
            result_ttl=0,
            failure_ttl=24 * 3600,
            description="is21 dispatch: serve ready cameras",
        )
