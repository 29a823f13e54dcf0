"""How commands go on the wire: a JPEG uncopied, everything else packed by hiredis in C."""

from __future__ import annotations

import errno
import os

import hiredis
import pytest
import redis
from redis.connection import PythonRespSerializer

from is21.protocol.connection import connect


def test_a_large_value_is_sent_uncopied() -> None:
    client = connect("redis://user:secret@127.0.0.1:1/0")  # never connects
    conn = client.connection_pool.make_connection()
    jpeg = b"\xff\xd8\xff" + bytes(200_000)
    chunks = conn.pack_command("XADD", "is21:frames:cam", "*", "jpeg", jpeg)
    assert any(chunk is jpeg for chunk in chunks)  # hiredis.pack_command would copy it
    assert b"".join(chunks).startswith(b"*5\r\n$4\r\nXADD\r\n")


def test_small_commands_are_packed_by_hiredis_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packed_in_c = []
    pack_command = hiredis.pack_command
    monkeypatch.setattr(hiredis, "pack_command", lambda a: packed_in_c.append(a) or pack_command(a))
    client = connect("redis://127.0.0.1:1/0")  # never connects
    conn = client.connection_pool.make_connection()
    python = PythonRespSerializer(6000, client.connection_pool.get_encoder().encode)
    streams = [f"is21:results:cam-{i:02d}" for i in range(30)]
    for args in [
        ("XREAD", "BLOCK", 100, "STREAMS", *streams, *["1763900000000-0"] * 30),
        ("EVALSHA", "a" * 40, 2, "k1", "k2", "caméra", b"\x00\xff", 7, 0.25),
        ("XADD", "is21:frames:cam", "*", "jpeg", b"\xff\xd8" + bytes(5998)),  # at the cutoff
    ]:
        chunks = conn.pack_command(*args)
        assert len(chunks) == 1  # hiredis: one buffer, packed in C
        assert chunks[0] == b"".join(python.pack(*args))
    assert len(packed_in_c) == 3


def unreachable(code: int) -> redis.ConnectionError:
    """What redis-py raises for a connect that failed with ``code``: the OSError its cause."""
    try:
        raise redis.ConnectionError("connect failed") from OSError(code, os.strerror(code))
    except redis.ConnectionError as exc:
        return exc


@pytest.mark.parametrize(
    ("code", "attempts"),
    [
        (errno.EHOSTUNREACH, 1),  # the link down: asked once, the call bounded by one timeout
        (errno.ENETUNREACH, 1),
        (errno.ETIMEDOUT, 1),
        (errno.ECONNREFUSED, 4),  # Redis restarting: asked again, the retries allow three
        (errno.ECONNRESET, 4),
        (errno.ENOENT, 4),  # its unix socket not there yet: a restart, ridden out
    ],
)
def test_a_host_that_cannot_be_reached_is_not_asked_again(code: int, attempts: int) -> None:
    client = connect("redis://127.0.0.1:1/0", timeout=0.1, retries=3)
    retry = client.connection_pool.connection_kwargs["retry"]
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise unreachable(code)

    with pytest.raises(redis.ConnectionError):
        retry.call_with_retry(fail, lambda _error: None)
    assert len(calls) == attempts
