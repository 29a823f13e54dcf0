"""The fleet runs under the shipped least-privilege ACL users (ops/redis/users.acl) on a
real redis-server: Redis denies none of its commands, and the users cannot step outside
the fleet's keys or use dangerous commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, ROOT, Fleet, fleet_env, require_shared, run_is21
from tests.samples import photo

PASSWORDS = {"worker": "w-pass", "producer": "p-pass", "ops": "o-pass"}


@pytest.fixture
def acl_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    text = (ROOT / "ops" / "redis" / "users.acl").read_text()
    for user, password in PASSWORDS.items():
        text = text.replace(f">CHANGE-ME-{user}", f">{password}")
    assert ">CHANGE-ME" not in text
    text += "\nuser admin on >a-pass ~* &* +@all\n"  # the test's own, to read ACL LOG
    acl = tmp_path / "users.acl"
    acl.write_text(text)
    with EmbeddedRedis(extra_args=("--aclfile", str(acl))) as server:
        yield server


def url(server: EmbeddedRedis, user: str) -> str:
    return f"unix://is21-{user}:{PASSWORDS[user]}@{server.socket}"


def test_fleet_under_least_privilege_users(acl_redis: EmbeddedRedis, tmp_path: Path) -> None:
    require_shared()
    admin = connect(f"unix://admin:a-pass@{acl_redis.socket}")
    fleet = Fleet(url(acl_redis, "worker"), fleet_env(url(acl_redis, "worker")), [], tmp_path)
    fleet.start("acl0")
    fleet.wait_alive(admin, 1)
    settings = Settings(redis_url=url(acl_redis, "producer"), model_dir=MODEL_DIR)
    producer = FrameProducer.from_url(url(acl_redis, "producer"), settings)
    for cam in ("acl-a", "acl-b"):
        ticket = producer.submit(cam, photo("COCO_val2014_000000181586.jpg"))
        assert ticket.fallback is None, ticket.fallback
        assert producer.wait(ticket, timeout=30).status == "ok"
    ops_env = fleet_env(url(acl_redis, "ops"))
    for args in (("status", "--once", "--json"), ("retention", "--json")):
        out = run_is21(*args, env=ops_env)
        assert out.returncode == 0, out.stderr
    assert fleet.stop() == [0]

    denied: Any = admin.acl_log()
    assert denied == [], denied
    for user in ("worker", "producer", "ops"):
        client = connect(url(acl_redis, user))
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("other-app:key", "x")  # outside is21:* and rq:*
        for command in (("FLUSHALL",), ("CONFIG", "GET", "*"), ("KEYS", "*")):
            with pytest.raises(redis.exceptions.NoPermissionError):
                client.execute_command(*command)  # type: ignore[no-untyped-call]
    producer_client = connect(url(acl_redis, "producer"))
    for command in (
        ("LLEN", "rq:queue:is21"),  # producers never touch RQ
        ("EVAL", "return 1", "0"),
        ("FUNCTION", "FLUSH"),
        ("FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('x', function() end)"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer_client.execute_command(*command)  # type: ignore[no-untyped-call]
    # The protocol's two client functions and nothing else (FCALL's first argument is
    # the function: Redis 7's ACL allows a command with one first argument).
    for call in (
        (
            "FCALL",
            "is21_beat",
            "4",
            "is21:heartbeat:x",
            "is21:workers",
            "is21:protocol",
            "is21:answering",
            "x",
            "{}",
            "1000",
            "0",
        ),
        ("FCALL", "is21_claim", "0"),
        ("FCALL", "is21_publish", "0"),
        ("FCALL", "is21_release", "0"),
        ("FCALL", "is21_ensure_jobs", "0"),
        ("FCALL", "is21_alive", "0"),  # a read: FCALL_RO only
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer_client.execute_command(*call)
    assert producer_client.fcall_ro("is21_alive", 0) == 0
    with pytest.raises(redis.exceptions.AuthenticationError):
        connect(f"unix://default:@{acl_redis.socket}").ping()  # no anonymous access
