"""One way to open Redis for every part of the fleet.

Every call has a timeout: the camera server's loop and the health endpoint must never
hang on a Redis that went away. ``decode_responses`` stays off because frames and
msgpack payloads are bytes.
"""

from __future__ import annotations

from importlib import resources

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.commands.core import AsyncScript, Script
from redis.retry import Retry

from schemas.settings import REDIS_SCHEMES


def connect(url: str, *, timeout: float = 5.0, retries: int = 3) -> redis.Redis:
    """Open a client; ``retries`` reconnect attempts, with jittered backoff, per command."""
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError(f"Redis URL must start with one of {', '.join(REDIS_SCHEMES)}: {url!r}")
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        decode_responses=False,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), retries),
    )


def load_script(client: redis.Redis, package: str, name: str) -> Script:
    """Register a Lua script shipped beside the module that runs it."""
    source = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    script = client.register_script(source)
    assert not isinstance(script, AsyncScript)
    return script
