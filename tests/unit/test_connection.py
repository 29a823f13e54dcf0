"""How commands go on the wire: a JPEG uncopied, everything else packed by hiredis in C."""

from __future__ import annotations

import hiredis
import pytest
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
