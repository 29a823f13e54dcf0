"""RQ's own commands on the fleet's Redis: ``rq info -c is21.ops.rq_settings``.

RQ reads ``REDIS_URL`` or, for Sentinel, a ``SENTINEL`` dict from a settings module; this
one derives either from ``IS21_REDIS_URL`` (a plain, TLS, unix or sentinel URL), so the
operator types the same command whatever the deployment.
"""

from __future__ import annotations

from typing import Any

from is21.protocol.sentinel import is_sentinel_url, parse
from is21.schemas.settings import Settings

_url = Settings().effective_redis_url

if is_sentinel_url(_url):
    _target = parse(_url)
    SENTINEL: dict[str, Any] = {
        "INSTANCES": _target.sentinels,
        "MASTER_NAME": _target.master,
        "DB": _target.db,
        "USERNAME": _target.username,
        "PASSWORD": _target.password,
        "SOCKET_TIMEOUT": 5,
        "SSL": _target.tls,
        "SENTINEL_KWARGS": _target.sentinel_kwargs(5),
        "CONNECTION_KWARGS": {k: v for k, v in _target.ssl_kwargs().items() if k != "ssl"},
    }
else:
    REDIS_URL = _url
