"""The health endpoint against a hostile or merely odd HTTP client, over a raw socket on
loopback (issue 28's weak points: HEAD answered 501, Content-Length with
Transfer-Encoding used the length, -5 and 1_0 taken as lengths, PUT * a 404)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from tests.conftest import Health


def exchange(health: Health, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send one raw request and read the whole answer (the server closes or the
    Content-Length ends it)."""
    host, port = health.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        if not request.startswith(b"HEAD"):
            while len(body) < int(headers.get("Content-Length", "0")):
                body += sock.recv(4096)
    return int(lines[0].split()[1]), headers, body


def put(length_headers: str) -> bytes:
    return b"PUT /v1/schema HTTP/1.1\r\nHost: x\r\n" + length_headers.encode() + b"\r\n\r\n{}"


@pytest.fixture
def health(health_factory: Callable[..., Health]) -> Health:
    return health_factory()


def test_head_is_answered_wherever_get_is(health: Health) -> None:
    get_status, get_headers, _body = exchange(health, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, rest = exchange(health, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == get_status and rest == b""
    assert headers["Content-Type"] == get_headers["Content-Type"] == "application/json"
    assert exchange(health, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
    assert exchange(health, b"HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Length: 2\r\nTransfer-Encoding: chunked", 400),  # ambiguous framing
        ("Transfer-Encoding: chunked", 411),
        ("Content-Length: -5", 400),
        ("Content-Length: 1_0", 400),
        ("Content-Length: +2", 400),
        ("Content-Length: 2\r\nContent-Length: 3", 400),
        ("Content-Length: 99999999999999999999999", 400),
        ("Content-Length: 70000", 413),
    ],
)
def test_a_body_s_length_is_read_strictly(health: Health, headers: str, status: int) -> None:
    answer, _headers, body = exchange(health, put(headers))
    assert answer == status, body


def test_methods_and_targets_get_their_own_status(health: Health) -> None:
    assert exchange(health, b"PUT * HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")[0] == 400
    status, headers, _ = exchange(health, b"PUT /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    status, headers, _ = exchange(health, b"POST /v1/schema HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and headers["Allow"] == "GET, HEAD, PUT"
    assert exchange(health, b"PUT /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 404
