"""One way to open Redis for every part of the fleet.

Every call has a timeout: the camera server's loop and the health endpoint must never
hang on a Redis that went away. ``decode_responses`` stays off because frames and
msgpack payloads are bytes.
"""

from __future__ import annotations

import errno
import time
from collections import deque
from collections.abc import Callable
from queue import LifoQueue
from typing import Any, Protocol

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.connection import (
    BlockingConnectionPool,
    Connection,
    HiredisRespSerializer,
    PythonRespSerializer,
)
from redis.retry import Retry
from redis.utils import HIREDIS_AVAILABLE

from is21.protocol.sentinel import is_sentinel_url, sentinel_pool
from is21.schemas.settings import REDIS_SCHEMES

# Redis gone (restarting, network) rather than refusing a command: wait and retry.
CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError)
_BUFFER_CUTOFF = 6000  # redis-py's own: values longer than this are sent unjoined


# A connect that failed because the host cannot be reached (no route, no answer to ARP,
# the link down, the kernel's own timeout) has spent its time already, as a timeout has.
UNREACHABLE = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.ETIMEDOUT}
)


def worth_retrying(error: Exception) -> bool:
    """A broken connection (a restart, ``CLIENT KILL``, a refused connect or a unix socket
    not there yet while Redis starts) is asked again; a host that cannot be reached is
    not: one more attempt would double the call's bound (seen: a camera server's submit
    took 2 s on a 1 s timeout when its link went down), and the caller's fallback is the
    answer then."""
    cause = error.__cause__
    return not (isinstance(cause, OSError) and cause.errno in UNREACHABLE)


def refuses_writes(exc: redis.RedisError) -> bool:
    """Redis refuses writes for a while, not this command: at maxmemory with noeviction
    (``OOM ...``), or with no replica acknowledging under ``min-replicas-to-write``
    (``NOREPLICAS ...``)."""
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(("OOM", "NOREPLICAS"))


class PoolExhausted(redis.RedisError):
    """Every connection of this process's pool stayed in use for the whole wait.

    Not a ``ConnectionError``: the process is busy, Redis is not down, so nothing may
    treat it as an outage (a producer would black out every camera for a second).
    """


class _Slots(LifoQueue[Connection | None]):
    """The blocking pool's free connections: the warmest one first (LIFO), to the thread
    that has waited longest (FIFO). A plain queue hands a returned connection to whoever
    asks next, most often the thread that just gave it back (a ``wait()`` looping on
    XREAD), and starves the others past their timeout."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._waiting: deque[object] = deque()

    def _put(self, item: Connection | None) -> None:
        super()._put(item)
        self.not_empty.notify_all()  # the head of the line must hear it, whoever else does

    def get(self, block: bool = True, timeout: float | None = None) -> Connection | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.not_empty:
            if self._qsize() and not self._waiting:
                return self._take()
            me = object()
            self._waiting.append(me)
            try:
                while not (self._qsize() and self._waiting[0] is me):
                    left = None if deadline is None else deadline - time.monotonic()
                    if not block or (left is not None and left <= 0):
                        raise PoolExhausted(
                            f"all {self.maxsize} Redis connections of this process stayed "
                            f"busy for {timeout} s"
                        )
                    self.not_empty.wait(left)
            finally:
                self._waiting.remove(me)
                self.not_empty.notify_all()  # the next in line may be served now
            return self._take()

    def _take(self) -> Connection | None:
        item = self._get()
        self.not_full.notify()
        return item


def connect(
    url: str, *, timeout: float = 5.0, retries: int = 3, max_connections: int = 16
) -> redis.Redis:
    """Open a client; ``retries`` reconnect attempts, with jittered backoff, per command.

    A retry follows a broken connection (a restart, ``CLIENT KILL``), never a timeout nor
    a host that cannot be reached (``worth_retrying``): a Redis that does not answer is
    not asked again, so a call is bounded by ``timeout`` once, not once per attempt. The
    pool holds ``max_connections``; a thread that finds them all in use waits up to
    ``timeout`` for one, then gets ``PoolExhausted``.
    """
    if not url.startswith(REDIS_SCHEMES):
        raise ValueError(f"Redis URL must start with one of {', '.join(REDIS_SCHEMES)}: {url!r}")
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "queue_class": _Slots,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
        "decode_responses": False,
        "retry": Retry(
            ExponentialWithJitterBackoff(base=0.01, cap=0.5),
            retries,
            supported_errors=(redis.ConnectionError,),
            is_retryable=worth_retrying,
        ),
    }
    pool: BlockingConnectionPool
    if is_sentinel_url(url):
        pool = sentinel_pool(url, timeout=timeout, **options)
    else:
        pool = BlockingConnectionPool.from_url(url, timeout=timeout, **options)
    pool.connection_kwargs["command_packer"] = FramePacker(pool.get_encoder().encode)
    return redis.Redis.from_pool(pool)


class _Packer(Protocol):
    def pack(self, *args: Any) -> list[bytes | memoryview]: ...


# redis-py leaves its serializers untyped, and how untyped changes between releases:
# named here once as what they are, so that no call below needs an ignore.
_python_packer: Callable[[int, Callable[[Any], bytes]], _Packer] = PythonRespSerializer
_hiredis_packer: Callable[[], _Packer] = HiredisRespSerializer


class FramePacker:
    """hiredis packs commands in C but copies every value into one buffer, a ~200 KB
    JPEG included; redis-py's own packer sends a large value as a chunk of its own,
    uncopied, but packs each argument in Python. Each command gets the packer that is
    cheap for it. Measured: a submit 0.48 -> 0.24 ms of CPU with the JPEG uncopied;
    an XREAD of 30 cameras' result streams packed in 137 -> 59 µs."""

    def __init__(self, encode: Callable[[Any], bytes]) -> None:
        self._python = _python_packer(_BUFFER_CUTOFF, encode)
        self._hiredis = _hiredis_packer() if HIREDIS_AVAILABLE else None

    def pack(self, *args: Any) -> list[bytes | memoryview]:
        if self._hiredis is None or any(
            isinstance(a, bytes | bytearray | memoryview) and len(a) > _BUFFER_CUTOFF for a in args
        ):
            return self._python.pack(*args)
        return self._hiredis.pack(*args)


def eviction_risk(client: redis.Redis) -> str | None:
    """Why this Redis may drop fleet keys on its own, or None.

    Under any policy but ``noeviction`` a full Redis evicts keys to make room, the fleet's
    among them (the schema, the live-worker set, camera hashes), and the fleet silently
    goes back to defaults. ``noeviction`` refuses writes instead, which the producer sees
    coming (IS21_REDIS_MEMORY_HIGH) and the workers ride out.
    """
    memory: Any = client.info("memory")
    policy = memory.get("maxmemory_policy", "noeviction")
    if policy == "noeviction":
        return None
    return (
        f"redis maxmemory-policy is {policy}, not noeviction: when full it evicts fleet "
        "keys (schema, live workers, camera state); set maxmemory-policy noeviction"
    )


def server_ms(client: redis.Redis) -> float:
    """Redis's clock, in ms: every host agrees on it, unlike their own."""
    sec, usec = client.time()
    return float(sec) * 1000 + float(usec) / 1000
