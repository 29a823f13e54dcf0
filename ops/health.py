"""``is21 health``: a tiny HTTP endpoint for is22 and Prometheus, standard library only.

It reads Redis and nothing else; every Redis call has a short timeout so a request never
hangs, and an unreachable Redis is itself an answer (503).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from is21.ops.fleet_state import fleet_problems, live_workers, worker_problems
from is21.ops.metrics import FleetCollector
from is21.protocol.connection import connect
from is21.protocol.schema_store import (
    MAX_SCHEMA_BYTES,
    SchemaError,
    load_schema,
    parse_schema,
    store_schema,
)
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError, load_manifest, manifest_path

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HealthApp:
    """What the endpoint answers; kept apart from HTTP plumbing so it reads as a spec."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self.started = time.monotonic()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(FleetCollector(client, settings))

    def healthz(self) -> tuple[int, dict[str, Any]]:
        try:
            workers = live_workers(self.client)
            schema = load_schema(self.client)
        except redis.RedisError as exc:
            return 503, {"status": "down", "redis": "unreachable", "reason": str(exc)}
        except SchemaError as exc:
            return 503, {"status": "degraded", "reason": f"stored schema is bad: {exc}"}
        body: dict[str, Any] = {
            "uptime_sec": round(time.monotonic() - self.started, 1),
            "schema_version": schema.version,
            "workers": len(workers),
        }
        try:
            problems = worker_problems(self.client) + fleet_problems(self.client, self.settings)
        except redis.RedisError as exc:
            return 503, {"status": "down", "redis": "unreachable", "reason": str(exc)}
        if problems:
            body["problems"] = problems
        loaded = [w for w in workers if w.get("model_loaded")]
        if not workers:
            return 503, {
                "status": "down",
                "reason": "no live worker" + (f": {problems[0]['error']}" if problems else ""),
                "model_loaded": False,
                **body,
            }
        stuck = [p["worker"] for p in problems if p.get("stuck")]
        if stuck:
            return 503, {
                "status": "degraded",
                "reason": f"worker stuck in detection: {', '.join(map(str, stuck))}",
                "model_loaded": bool(loaded),
                **body,
            }
        if not loaded:
            return 503, {
                "status": "degraded",
                "reason": "no live worker has a model loaded",
                "model_loaded": False,
                **body,
            }
        blind = [p["error"] for p in problems if p.get("blind")]
        if blind:
            return 503, {"status": "degraded", "reason": blind[0], "model_loaded": True, **body}
        last = max(
            (str(w.get("last_inference_at")) for w in loaded if w.get("last_inference_at")),
            default=None,
        )
        return 200, {
            "status": "ok",
            "model_loaded": True,
            "last_inference_at": last,
            **body,
            "workers": len(loaded),
        }

    def capabilities(self) -> tuple[int, dict[str, Any]]:
        try:
            workers = live_workers(self.client)
            schema = load_schema(self.client)
        except (redis.RedisError, SchemaError) as exc:
            return 503, {"error": str(exc)}
        try:
            manifest = load_manifest(manifest_path(self.settings.manifest))
            models = [
                {
                    "name": d.name,
                    "sha256": d.sha256,
                    "backend": d.backend,
                    "format": d.format,
                    "input_size": list(d.input_size),
                    "labels": d.labels,
                }
                for d in manifest.detector
                if d.enabled
            ]
        except ModelError:
            models = []
        return 200, {
            "backends": sorted({str(w.get("backend")) for w in workers}),
            "models": models,
            "events": {name: rule.model_dump() for name, rule in schema.events.items()},
            "schema_version": schema.version,
            "workers": [
                {"worker": w.get("worker"), "backend": w.get("backend"), "models": w.get("models")}
                for w in workers
            ],
        }

    def get_schema(self) -> tuple[int, dict[str, Any]]:
        try:
            return 200, load_schema(self.client).model_dump()
        except (redis.RedisError, SchemaError) as exc:
            return 503, {"error": str(exc)}

    def put_schema(self, body: bytes, authorization: str | None) -> tuple[int, dict[str, Any]]:
        token = self.settings.admin_token
        if token is None and not is_loopback(self.settings.host):
            return 403, {
                "error": "schema changes on a non-loopback endpoint need IS21_ADMIN_TOKEN to be set"
            }
        if token is not None and not hmac.compare_digest(
            (authorization or "").encode(), f"Bearer {token}".encode()
        ):
            return 401, {"error": "missing or wrong bearer token"}
        try:
            schema = parse_schema(body)
            store_schema(self.client, schema)
        except SchemaError as exc:
            return 400, {"error": str(exc)}
        except redis.RedisError as exc:
            return 503, {"error": str(exc)}
        log.info("event schema %s stored", schema.version)
        return 200, {"status": "ok", "version": schema.version}

    def metrics(self) -> tuple[int, bytes]:
        try:
            return 200, generate_latest(self.registry)
        except redis.RedisError as exc:
            return 503, f"# redis unreachable: {exc}\n".encode()


# Each path and the methods it answers (HEAD wherever GET).
ROUTES: dict[str, set[str]] = {
    "/healthz": {"GET"},
    "/v1/capabilities": {"GET"},
    "/v1/schema": {"GET", "PUT"},
    "/metrics": {"GET"},
}


def make_handler(app: HealthApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # a slow client cannot hold a thread for long
        server_version = "is21-health"

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if status == 405:
                allowed = ROUTES.get(self.path.split("?", 1)[0], set())
                head = {"HEAD"} if "GET" in allowed else set()
                self.send_header("Allow", ", ".join(sorted(allowed | head)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, obj: dict[str, Any]) -> None:
            self._send(status, json.dumps(obj).encode(), "application/json")

        def _route(self) -> str | None:
            """The path if this method may be used on it; else answered, and None."""
            if not self.path.startswith("/"):  # '*' or an absolute URI: not ours to serve
                self._json(400, {"error": f"bad request target for {self.command}"})
                return None
            path = self.path.split("?", 1)[0]
            allowed = ROUTES.get(path)
            if allowed is None:
                self._json(404, {"error": f"no such path: {path}"})
                return None
            method = "GET" if self.command == "HEAD" else self.command
            if method not in allowed:
                self._json(405, {"error": f"{self.command} not allowed on {path}"})
                return None
            return path

        def do_GET(self) -> None:
            path = self._route()
            if path == "/healthz":
                self._json(*app.healthz())
            elif path == "/v1/capabilities":
                self._json(*app.capabilities())
            elif path == "/v1/schema":
                self._json(*app.get_schema())
            elif path == "/metrics":
                status, text = app.metrics()
                self._send(status, text, CONTENT_TYPE_LATEST)

        do_HEAD = do_GET  # monitors that probe with HEAD get GET's status and headers

        def do_PUT(self) -> None:
            if self._route() is None:
                return
            length = self._body_length()
            if length is not None:
                body = self.rfile.read(length)
                self._json(*app.put_schema(body, self.headers.get("Authorization")))

        def _body_length(self) -> int | None:
            """The body's length by RFC 9112's rules for a server that takes no chunked
            bodies: one Content-Length of digits only, never with Transfer-Encoding
            (ambiguous framing, how requests are smuggled); else answered, and None."""
            lengths = self.headers.get_all("Content-Length") or []
            if self.headers.get("Transfer-Encoding") is not None:
                status = 400 if lengths else 411
                self._json(status, {"error": "Transfer-Encoding is not accepted; send a "
                                    "Content-Length alone"})  # fmt: skip
                self.close_connection = True
                return None
            if not lengths:
                self._json(411, {"error": "Content-Length required"})
                return None
            if len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,19}", lengths[0]):
                self._json(400, {"error": f"bad Content-Length: {', '.join(lengths)[:40]}"})
                self.close_connection = True
                return None
            if int(lengths[0]) > MAX_SCHEMA_BYTES:
                self._json(413, {"error": f"body over {MAX_SCHEMA_BYTES} bytes"})
                self.close_connection = True
                return None
            return int(lengths[0])

        def do_POST(self) -> None:
            self._route()  # nothing takes POST: 404 or 405

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


class HealthServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a burst of pollers (150 at
    # once waited out TCP's 1 s and 3 s retries, past their own timeouts).
    request_queue_size = 128


def serve_health(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    bound = settings.model_copy(
        update={"host": host or settings.host, "port": port if port is not None else settings.port}
    )
    # One connection per request in flight, up to 64 (each /healthz takes a few ms); more
    # concurrent requests wait their turn for one rather than reading as "Redis down".
    client = connect(bound.effective_redis_url, timeout=1.0, retries=0, max_connections=64)
    app = HealthApp(client, bound)
    server = HealthServer((bound.host, bound.port), make_handler(app))
    log.info("health endpoint on http://%s:%s", bound.host, server.server_address[1])
    try:
        server.serve_forever()
    finally:
        server.server_close()
