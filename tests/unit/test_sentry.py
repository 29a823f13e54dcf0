from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sentry_sdk

from is21.ops.sentry import setup_sentry


def test_nothing_is_set_up_without_a_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    assert setup_sentry("worker") is False
    assert not sentry_sdk.get_client().is_active()


def test_errors_reach_the_configured_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[bytes] = []

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append(body)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SENTRY_DSN", f"http://key@127.0.0.1:{server.server_port}/1")
    try:
        assert setup_sentry("worker") is True
        sentry_sdk.capture_message("is21 sentry test")
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to an inactive client for the other tests
        server.shutdown()
    assert any(b"is21 sentry test" in body for body in received)
