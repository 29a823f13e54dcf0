"""A TCP proxy that can add latency and cut the link: the network faults of a site, on
one machine (this kernel has no ``netem``).

    with TcpProxy(upstream=("127.0.0.1", 6379), delay_ms=5) as proxy:
        ...  # clients connect to proxy.port; each direction is delayed by 5 ms
        proxy.cut()   # every connection dropped, new ones refused: a cable pulled
        proxy.heal()

The delay holds each chunk for ``delay_ms`` after it arrived and keeps the order, so a
request and its reply each take the delay: a round trip grows by twice ``delay_ms``.
Used by the tests and ``is21`` harnesses on loopback and in namespaces the harness made.
"""

from __future__ import annotations

import contextlib
import heapq
import socket
import threading
import time
from typing import Self

from is21.ops.lifecycle import Lifecycle


class TcpProxy(Lifecycle):
    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        delay_ms: float = 0.0,
    ) -> None:
        self.upstream, self.delay_s = upstream, delay_ms / 1000
        self._server = socket.create_server(listen)
        self.host, self.port = self._server.getsockname()[:2]
        self._lock = threading.Lock()
        self._links: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def cut(self) -> None:
        """Drop every connection (RST) and refuse new ones until ``heal``."""
        with self._lock:
            self._cut = True
            links, self._links = self._links, []
        for pair in links:
            for sock in pair:
                _reset(sock)

    def heal(self) -> None:
        with self._lock:
            self._cut = False

    def stop(self) -> None:
        self._closed = True
        self.cut()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._links.append((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        if self.delay_s <= 0:
            with contextlib.suppress(OSError):
                while data := src.recv(65536):
                    dst.sendall(data)
            _reset(dst)
            return
        # Delayed: a reader stamps each chunk, a writer sends it when its time comes.
        queue: list[tuple[float, int, bytes]] = []
        ready = threading.Condition()
        order = 0

        def write() -> None:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, _n, data = queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(queue)
                if not data:
                    _reset(dst)
                    return
                try:
                    dst.sendall(data)
                except OSError:
                    return

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        data = b"x"
        while data:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with ready:
                heapq.heappush(queue, (time.monotonic() + self.delay_s, order, data))
                order += 1
                ready.notify()


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a peer that vanished looks to the other end."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()


def main() -> None:
    """``python -m is21.lab.tcp_proxy --listen HOST:PORT --upstream HOST:PORT --delay-ms D``:
    the proxy as a process of its own, e.g. inside a host's network namespace."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()

    def address(text: str) -> tuple[str, int]:
        host, _, port = text.rpartition(":")
        return host, int(port)

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    with TcpProxy(address(args.upstream), listen=address(args.listen), delay_ms=args.delay_ms):
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    main()
