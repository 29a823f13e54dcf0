"""HTTP for the health endpoint, standard library only, and its limits: short socket
timeouts, strict request framing, one thread per request.

``/healthz`` reads through a connection pool of its own: a burst of slow routes
(``/metrics`` on a large fleet, the frame and snapshot routes to come) can take every
connection of theirs and is22's probe is still answered at once.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

import redis
from prometheus_client import CONTENT_TYPE_LATEST

from is21.ops.health import page
from is21.ops.health.decision import decide
from is21.ops.health.probe import read_snapshot
from is21.ops.health.routes import Routes
from is21.protocol.connection import connect
from is21.protocol.schema_store import MAX_SCHEMA_BYTES
from is21.schemas.settings import Settings

log = logging.getLogger(__name__)


class HealthApp:
    """The probe on one client, the other routes on another (the same one in tests)."""

    def __init__(
        self, client: redis.Redis, settings: Settings, routes_client: redis.Redis | None = None
    ) -> None:
        self.client, self.settings = client, settings
        self.started = time.monotonic()
        self.routes = Routes(routes_client or client, settings)

    def healthz(self) -> tuple[int, dict[str, Any]]:
        return decide(read_snapshot(self.client, self.settings, self.started))


Reply = tuple[int, bytes, str]


def _json(answer: tuple[int, dict[str, Any]]) -> Reply:
    return answer[0], json.dumps(answer[1]).encode(), "application/json"


# GET (and HEAD) routes: path -> how the app answers it.
GETS: dict[str, Callable[[HealthApp], Reply]] = {
    "/healthz": lambda app: _json(app.healthz()),
    "/v1/capabilities": lambda app: _json(app.routes.capabilities()),
    "/v1/schema": lambda app: _json(app.routes.get_schema()),
    "/metrics": lambda app: (*app.routes.metrics(), CONTENT_TYPE_LATEST),
    "/": lambda app: (200, page.HTML.encode(), "text/html; charset=utf-8"),
    "/page.js": lambda app: (200, page.JS.encode(), "text/javascript; charset=utf-8"),
    "/v1/status": lambda app: _json(app.routes.status()),
}
# Each path and the methods it answers (HEAD wherever GET).
ROUTES: dict[str, set[str]] = {path: {"GET"} for path in GETS} | {"/v1/schema": {"GET", "PUT"}}
# GET routes with a part of their own: an incident's best frame (its id, percent-decoded:
# camera:kind:ms, of the closed alphabets of camera ids and event names).
SNAPSHOT = re.compile(
    r"/v1/incidents/([A-Za-z0-9_.-]{1,64}:[A-Za-z0-9_.-]{1,64}:[0-9]{1,16})/snapshot\.jpg"
)


# A camera's newest frame, drawn on (``?raw=1``: as the camera sent it).
LATEST = re.compile(r"/v1/cameras/([A-Za-z0-9_.-]{1,64})/latest\.jpg")


def resolve(path: str, query: str = "") -> tuple[set[str], Callable[[HealthApp], Reply]] | None:
    """The methods a path answers and how it answers GET; None if it is no route."""
    if path in ROUTES:
        return ROUTES[path], GETS.get(path, lambda app: (405, b"", "text/plain"))
    if match := SNAPSHOT.fullmatch(unquote(path)):
        incident = match.group(1)
        return {"GET"}, lambda app: app.routes.snapshot(incident)
    if match := LATEST.fullmatch(unquote(path)):
        asked = parse_qs(query)
        camera, raw, thumb = match.group(1), asked.get("raw") == ["1"], asked.get("thumb") == ["1"]
        return {"GET"}, lambda app: app.routes.latest(camera, raw, thumb)
    return None


class Handler(BaseHTTPRequestHandler):
    app: HealthApp  # set by make_handler
    timeout = 5  # a slow client cannot hold a thread for long
    server_version = "is21-health"

    def send(self, reply: Reply) -> None:
        status, body, content_type = reply
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if content_type.startswith("text/html"):
            self.send_header("Content-Security-Policy", page.CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
        if status == 405:
            found = resolve(self.path.split("?", 1)[0])
            allowed = found[0] if found else set()
            head = {"HEAD"} if "GET" in allowed else set()
            self.send_header("Allow", ", ".join(sorted(allowed | head)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status: int, message: str, close: bool = False) -> None:
        self.send(_json((status, {"error": message})))
        if close:  # the framing is in doubt: what follows on the connection is not read
            self.close_connection = True

    def route(self) -> Callable[[HealthApp], Reply] | None:
        """How GET answers the path if this method may be used on it; else answered, and
        None."""
        if not self.path.startswith("/"):  # '*' or an absolute URI: not ours to serve
            self.error(400, f"bad request target for {self.command}")
            return None
        path, _, query = self.path.partition("?")
        found = resolve(path, query)
        if found is None:
            self.error(404, f"no such path: {path[:200]}")
            return None
        if ("GET" if self.command == "HEAD" else self.command) not in found[0]:
            self.error(405, f"{self.command} not allowed on {path[:200]}")
            return None
        return found[1]

    def do_GET(self) -> None:
        get = self.route()
        if get is not None:
            self.send(get(self.app))

    do_HEAD = do_GET  # monitors that probe with HEAD get GET's status and headers

    def do_PUT(self) -> None:
        if self.route() is None:
            return
        length = self.body_length()
        if length is not None:
            body = self.rfile.read(length)
            self.send(_json(self.app.routes.put_schema(body, self.headers.get("Authorization"))))

    def do_POST(self) -> None:
        self.route()  # nothing takes POST: 404 or 405

    def body_length(self) -> int | None:
        """The body's length by RFC 9112's rules for a server that takes no chunked
        bodies: one Content-Length of digits only, never with Transfer-Encoding
        (ambiguous framing, how requests are smuggled); else answered, and None."""
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get("Transfer-Encoding") is not None:
            message = "Transfer-Encoding is not accepted; send a Content-Length alone"
            self.error(400 if lengths else 411, message, close=True)
        elif not lengths:
            self.error(411, "Content-Length required")
        elif len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,19}", lengths[0]):
            self.error(400, f"bad Content-Length: {', '.join(lengths)[:40]}", close=True)
        elif int(lengths[0]) > MAX_SCHEMA_BYTES:
            self.error(413, f"body over {MAX_SCHEMA_BYTES} bytes", close=True)
        else:
            return int(lengths[0])
        return None

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def make_handler(app: HealthApp) -> type[Handler]:
    return type("BoundHandler", (Handler,), {"app": app})


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of pollers (150 at
    # once waited out TCP's 1 s and 3 s retries, past their own timeouts).
    request_queue_size = 128


def serve_health(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    bound = settings.model_copy(
        update={"host": host or settings.host, "port": port if port is not None else settings.port}
    )
    # One connection per request in flight, up to 64 for probes (each takes a few ms) and
    # 16 for the other routes; more concurrent requests wait their turn for one rather
    # than reading as "Redis down".
    url = bound.effective_redis_url
    probes = connect(url, timeout=1.0, retries=0, max_connections=64)
    routes = connect(url, timeout=2.0, retries=0, max_connections=16)
    app = HealthApp(probes, bound, routes_client=routes)
    try:
        server = HealthServer((bound.host, bound.port), make_handler(app))
    except OSError as exc:  # one line for the operator (commands/base.py), not errno's
        raise OSError(f"cannot listen on {bound.host}:{bound.port}: {exc.strerror}") from exc
    log.info("health endpoint on http://%s:%s", bound.host, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
