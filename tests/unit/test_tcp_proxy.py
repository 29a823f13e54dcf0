"""The harness's TCP proxy on loopback: its delay is there, its cut is a pulled cable."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from is21.lab.tcp_proxy import TcpProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def round_trip(port: int) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(b"ping")
        if s.recv(16) != b"ping":
            raise ConnectionResetError("no echo")
        return time.monotonic() - t0


def test_each_direction_is_delayed(echo: tuple[str, int]) -> None:
    with TcpProxy(echo) as plain, TcpProxy(echo, delay_ms=20) as slow:
        assert round_trip(plain.port) < 0.02
        assert 0.04 <= round_trip(slow.port) < 0.5


def test_cut_drops_and_refuses_until_healed(echo: tuple[str, int]) -> None:
    with TcpProxy(echo) as proxy:
        live = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        live.sendall(b"a")
        assert live.recv(1) == b"a"
        proxy.cut()
        with pytest.raises(OSError):
            live.sendall(b"b")
            if not live.recv(1):  # a reset may surface as EOF on some kernels
                raise ConnectionResetError
        with pytest.raises(OSError):
            round_trip(proxy.port)
        proxy.heal()
        assert round_trip(proxy.port) < 1
        live.close()
