"""The RQ job function, and the engine it runs in.

RQ imports a job's function by name (``is21.workers.job.serve``, protocol/dispatch.py);
the function needs the worker process's engine, which holds the loaded models. A plain
``rq worker`` has none, so the job refuses to run there.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job

from is21.workers.engine import Engine

_engine: Engine | None = None


def install(engine: Engine | None) -> None:
    global _engine
    _engine = engine


def serve() -> dict[str, Any]:
    job = get_current_job()
    if _engine is None or job is None:
        raise RuntimeError(
            "is21.workers.job.serve must run inside `is21 worker` "
            "(a plain `rq worker` has no models loaded)"
        )
    return _engine.serve(job.id)
