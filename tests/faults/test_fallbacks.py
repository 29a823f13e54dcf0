"""Every no_event the producer answers itself is counted by why, where operators see it:
the fleet must not go blind while everything looks green."""

from __future__ import annotations

import time

import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.ops.health import HealthApp
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.helpers import JPEG, play_a_worker
from tests.samples import photo


def fallbacks(client: redis.Redis) -> dict[str, int]:
    raw = client.hgetall(keys.COUNTERS)
    return {k.decode(): int(v) for k, v in raw.items() if k.startswith(b"fallback")}


def test_fallbacks_are_counted_by_reason_and_exported(
    own_redis: EmbeddedRedis, settings: Settings
) -> None:
    client = connect(own_redis.url)
    settings = settings.model_copy(
        update={"redis_url": own_redis.url, "redis_timeout": 0.5, "fleet_cache": 0.0}
    )
    producer = FrameProducer.from_settings(settings)
    for _ in range(2):
        assert producer.submit("cam", photo(JPEG)).fallback is not None  # no worker yet
    assert fallbacks(client) == {"fallback": 2, "fallback:no_worker": 2}

    assert own_redis.process is not None
    own_redis.process.kill()  # Redis gone: counted here, written when it is back
    own_redis.process.wait()
    for _ in range(3):
        ticket = producer.submit("cam", photo(JPEG))
        assert ticket.fallback is not None and "unreachable" in (ticket.fallback.error or "")
    own_redis.start()  # empty, as after a restart without persistence
    play_a_worker(client)
    time.sleep(0.15)  # past the producer's 0.1 s memory of the outage
    assert producer.submit("cam", photo(JPEG)).fallback is None
    assert fallbacks(client) == {"fallback": 3, "fallback:redis_unreachable": 3}

    _status, text = HealthApp(client, settings).routes.metrics()
    assert 'is21_fallback_total{reason="redis_unreachable"} 3.0' in text.decode()
