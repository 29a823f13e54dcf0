"""IS21_REDIS_URL may carry an ACL user and password; a unix socket URL works too."""

from __future__ import annotations

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.schemas.settings import Settings
from tests.helpers import play_a_worker
from tests.samples import photo


@pytest.fixture(scope="module")
def acl_server():  # type: ignore[no-untyped-def]
    args = ("--user", "default", "off", "--user", "camera", "on", ">s3cret", "~*", "&*", "+@all")
    with EmbeddedRedis(extra_args=args) as server:
        yield server


def test_user_and_password_in_a_unix_url(acl_server: EmbeddedRedis) -> None:
    url = f"unix://camera:s3cret@{acl_server.socket}"
    producer = FrameProducer.from_url(url, Settings())
    play_a_worker(producer.client)
    ticket = producer.submit("acl-cam", photo("COCO_val2014_000000181586.jpg"))
    assert ticket.fallback is None and ticket.seq == 1
    assert producer.cameras() == ["acl-cam"]


def test_wrong_password_is_a_clear_error(acl_server: EmbeddedRedis) -> None:
    producer = FrameProducer.from_url(f"unix://camera:wrong@{acl_server.socket}", Settings())
    with pytest.raises(redis.AuthenticationError):
        producer.fleet_available()
    # The camera loop is never raised into: the frame falls back, saying why.
    ticket = producer.submit("acl-cam", photo("COCO_val2014_000000181586.jpg"))
    assert ticket.fallback is not None
    assert "invalid username-password" in (ticket.fallback.error or "")
