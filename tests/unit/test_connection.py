"""How frames go on the wire: a JPEG is sent as it is, never copied into a command buffer."""

from __future__ import annotations

from producer.connection import connect


def test_a_large_value_is_sent_uncopied() -> None:
    client = connect("redis://user:secret@127.0.0.1:1/0")  # never connects
    conn = client.connection_pool.make_connection()
    jpeg = b"\xff\xd8\xff" + bytes(200_000)
    chunks = conn.pack_command("XADD", "is21:frames:cam", "*", "jpeg", jpeg)
    assert any(chunk is jpeg for chunk in chunks)  # hiredis.pack_command would copy it
    assert b"".join(chunks).startswith(b"*5\r\n$4\r\nXADD\r\n")
