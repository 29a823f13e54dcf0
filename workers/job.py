"""The RQ job function, and how it finds the engine that holds the loaded models.

RQ imports a job's function by name (``is21.workers.job.serve``, protocol/dispatch.py)
and calls it with the job's (JSON) arguments only. The worker that runs the job sets its
engine for the length of that one job (``serving``, in ``FleetWorker.execute_job``), in a
context variable: nothing is left set between jobs, and a plain ``rq worker``, which has
no models loaded, finds none and the job refuses to run there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from rq import get_current_job

if TYPE_CHECKING:
    from is21.workers.engine import Engine

_engine: ContextVar[Engine | None] = ContextVar("is21_engine", default=None)


@contextmanager
def serving(engine: Engine) -> Iterator[None]:
    token = _engine.set(engine)
    try:
        yield
    finally:
        _engine.reset(token)


def serve() -> dict[str, Any]:
    job, engine = get_current_job(), _engine.get()
    if engine is None or job is None:
        raise RuntimeError(
            "is21.workers.job.serve must run inside `is21 worker` "
            "(a plain `rq worker` has no models loaded)"
        )
    return engine.serve(job.id)
