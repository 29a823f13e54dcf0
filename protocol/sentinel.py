"""Redis Sentinel: the same client, its master found, and found again, by the sentinels.

    redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER[/DB][?OPTIONS]
    rediss+sentinel://...    TLS to the sentinels and to the master

USER and PASSWORD are the master's: the fleet's ACL user, as in a plain URL. Sentinels
often run without auth or with a user of their own: ``sentinel_username`` and
``sentinel_password`` in the query. The ``ssl_*`` options are redis-py's (``ssl_ca_certs``,
``ssl_certfile``, ``ssl_keyfile``, ``ssl_cert_reqs``) and apply to both.

The pool is redis-py's ``SentinelConnectionPool`` with the fleet's blocking, fair
checkout: after a failover, a broken connection's retry asks the sentinels for the
master again, and a master demoted to replica answers READONLY, which redis-py turns
into a reconnect. The functions library needs nothing: ``FUNCTION LOAD`` replicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis.backoff import NoBackoff
from redis.connection import BlockingConnectionPool
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

SCHEMES = ("redis+sentinel://", "rediss+sentinel://")
SSL_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
SENTINEL_AUTH = ("sentinel_username", "sentinel_password")


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    options: dict[str, str] = field(default_factory=dict)

    def sentinel_kwargs(self, timeout: float) -> dict[str, Any]:
        """Each sentinel asked once, within ``timeout``: redis-py's default retries with
        up to 10 s of backoff would make one unreachable sentinel stall every lookup."""
        kwargs: dict[str, Any] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "username": self.options.get("sentinel_username"),
            "password": self.options.get("sentinel_password"),
        }
        return kwargs | self.ssl_kwargs()

    def ssl_kwargs(self) -> dict[str, Any]:
        if not self.tls:
            return {}
        return {"ssl": True, **{k: v for k, v in self.options.items() if k in SSL_OPTIONS}}


def is_sentinel_url(url: str) -> bool:
    return url.startswith(SCHEMES)


def parse(url: str) -> SentinelTarget:
    parts = urlsplit(url)
    hosts = parts.netloc.rsplit("@", 1)[-1]
    sentinels = []
    for item in filter(None, hosts.split(",")):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"sentinel URL: {item!r} is not HOST:PORT in {url!r}")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError(
            f"sentinel URL must be redis+sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]"
            f"/MASTER[/DB], got {url!r}"
        )
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = sorted(set(options) - set(SSL_OPTIONS) - set(SENTINEL_AUTH))
    if unknown:
        raise ValueError(f"sentinel URL: unknown options {unknown}")
    return SentinelTarget(
        sentinels=sentinels,
        master=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=url.startswith("rediss+"),
        options=options,
    )


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's master discovery with ``BlockingConnectionPool``'s bounded checkout."""


def sentinel_pool(url: str, *, timeout: float, **pool_kwargs: Any) -> BlockingSentinelPool:
    target = parse(url)
    manager = Sentinel(target.sentinels, sentinel_kwargs=target.sentinel_kwargs(timeout))
    return BlockingSentinelPool(  # type: ignore[no-untyped-call]
        target.master,
        manager,
        timeout=timeout,
        db=target.db,
        username=target.username,
        password=target.password,
        **target.ssl_kwargs(),
        **pool_kwargs,
    )
