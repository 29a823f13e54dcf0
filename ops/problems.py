"""What is wrong with the fleet, as one list of ``{"worker", "error", ...}`` for /healthz,
``is21 status`` and the alerts. ``stuck``: a worker hangs in a detection; ``blind``: the
camera server gets no answers at all.

The reads are a handful of pipelined commands, never a SCAN: a probe polled every second
must cost the same with 30 cameras or 3000 keys.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from is21.ops.fleet_state import live_workers, read_progress
from is21.protocol.connection import eviction_risk
from is21.schemas import keys
from is21.schemas.settings import Settings

Problem = dict[str, Any]


def one_line(problem: Problem) -> str:
    """``worker: what is wrong``, unless the text already names what it is about."""
    who, error = str(problem.get("worker", "")), str(problem.get("error", ""))
    return error if not who or error.startswith(who) else f"{who}: {error}"


def read_worker_errors(client: redis.Redis) -> list[Problem]:
    """Why workers could not start, as they left it (workers/worker.py, report_failure)."""
    names: Any = client.zrange(keys.WORKER_ERRORS, 0, -1)
    if not names:
        return []
    raw: Any = client.mget([keys.worker_error(n.decode("utf-8", "replace")) for n in names])
    errors = []
    for value in raw:  # None: expired
        try:
            error = json.loads(value) if value is not None else None
        except ValueError:
            continue
        if isinstance(error, dict):
            errors.append(error)
    return errors


def missing_workers(
    seen: dict[str, float], workers: list[dict[str, Any]], now_ms: float, forget_after_s: float
) -> list[Problem]:
    """Workers the fleet expects (seen, not retired by a goodbye, not forgotten) whose
    heartbeat is not fresh: killed, out of memory, a board down."""
    alive = {str(w.get("worker")) for w in workers}
    problems = []
    for name, last_ms in sorted(seen.items()):
        age_s = max(0.0, (now_ms - last_ms) / 1000)
        if name in alive or age_s > forget_after_s:
            continue
        when = datetime.fromtimestamp(last_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        problems.append(
            {
                "worker": name,
                "error": f"missing: no heartbeat for {ago(age_s)} (last seen {when})",
                "missing": True,
                "last_seen_s": round(age_s, 1),
            }
        )
    return problems


def ago(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``: for a person."""
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def read_seen(client: redis.Redis) -> tuple[dict[str, float], float]:
    """The workers the fleet expects, with the ms of each one's last beat, and Redis's
    clock now: one round trip."""
    with client.pipeline(transaction=False) as pipe:
        pipe.zrange(keys.SEEN, 0, -1, withscores=True)
        pipe.time()
        seen, (sec, usec) = pipe.execute()
    names = {n.decode("utf-8", "replace"): float(ms) for n, ms in seen}
    return names, float(sec) * 1000 + float(usec) / 1000


def worker_problems(workers: list[dict[str, Any]], errors: list[Problem]) -> list[Problem]:
    """Workers that failed to start, refused a model on reload, hang in detection, or whose
    runtime (an NPU core) failed: from their heartbeats and start errors, no reads."""
    problems = list(errors)
    for w in workers:
        name = w.get("worker")
        if w.get("model_error"):
            problems.append({"worker": name, "error": w["model_error"]})
        if w.get("detector_failing"):
            problems.append(
                {
                    "worker": name,
                    "error": f"its detector fails every frame: {w['detector_failing']}",
                }
            )
        if w.get("core_failed"):
            problems.append({"worker": name, "error": w["core_failed"]})
        if w.get("stuck"):
            problems.append(
                {
                    "worker": name,
                    "error": f"stuck: one frame in detection for {w.get('in_frame_s')} s "
                    "(over IS21_INFER_TIMEOUT)",
                    "stuck": True,
                }
            )
    return sorted(problems, key=lambda p: str(p.get("worker")))


def fleet_problems(client: redis.Redis, settings: Settings) -> list[Problem]:
    """What is wrong beyond any one worker: a Redis that may evict fleet keys, one so full
    that producers refuse frames, frames waiting while nothing is served."""
    problems: list[Problem] = []
    if risk := eviction_risk(client):
        problems.append({"worker": "redis", "error": risk})
    memory: Any = client.info("memory")
    used, limit = int(memory.get("used_memory", 0)), int(memory.get("maxmemory", 0))
    if limit and used > limit * settings.redis_memory_high:
        problems.append(
            {
                "worker": "redis",
                "error": f"memory high: {used} of maxmemory {limit} bytes, over "
                f"IS21_REDIS_MEMORY_HIGH={settings.redis_memory_high}: producers refuse "
                "frames (no_event); run is21 retention",
                "blind": True,
            }
        )
    # Past the frame age limit a waiting frame would be expired, not served.
    if stall := read_progress(client).problem(settings.max_frame_age):
        problems.append({"worker": "fleet", "error": stall, "blind": True})
    return problems + camera_problems(client)


def camera_problems(client: redis.Redis) -> list[Problem]:
    """Cameras whose frames fail because Redis refuses their keys (is21:camera_problems,
    kept by the functions): the other cameras are served, so not ``blind``."""
    raw: Any = client.hgetall(keys.CAMERA_PROBLEMS)
    problems = []
    for cam, value in sorted(raw.items()):
        at, _, reason = value.decode("utf-8", "replace").partition(" ")
        when = datetime.fromtimestamp(int(at) / 1000, UTC).isoformat() if at.isdigit() else at
        camera = cam.decode("utf-8", "replace")
        problems.append(
            {
                "worker": f"camera {camera}",
                "camera": camera,
                "error": f"camera {camera}: its frames fail, Redis refuses its keys: {reason} "
                f"(since {when}); fix or delete the key",
            }
        )
    return problems


def read_problems(
    client: redis.Redis, settings: Settings, workers: list[dict[str, Any]] | None = None
) -> list[Problem]:
    """Everything wrong: live workers' problems and start errors first (the likeliest
    cause of the rest), then missing workers, then the fleet's; ``workers``: the live
    heartbeats if already read."""
    if workers is None:
        workers = live_workers(client)
    seen, now = read_seen(client)
    missing = missing_workers(seen, workers, now, settings.forget_workers_after)
    errors = read_worker_errors(client)
    return worker_problems(workers, errors) + missing + fleet_problems(client, settings)
