"""What the endpoint serves besides ``/healthz``: capabilities, the event schema (read,
and replaced by an admin), the fleet's metrics, incidents' snapshots and cameras' newest
frames. These may read much more than a probe (``/metrics`` reads every camera, a frame
is drawn on), so they run on Redis connections of their own."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
from typing import Any

import redis
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from is21.ops.annotate import annotate
from is21.ops.fleet_state import FleetState, live_workers
from is21.ops.latest import NoFrame, latest_picture
from is21.ops.metrics import FleetCollector
from is21.ops.status import snapshot
from is21.protocol.schema_store import SchemaError, load_schema, parse_schema, store_schema
from is21.schemas import keys
from is21.schemas.settings import Settings
from is21.workers.image import ImageError
from is21.workers.manifest import ModelError, load_manifest, manifest_path

log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]
STATUS_EVERY = 1.0  # s: the page's facts are read once a second, however many look
THUMB_WIDTH = 320


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Routes:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(FleetCollector(client, settings))
        self._status_lock = threading.Lock()
        self._status: tuple[float, dict[str, Any], FleetState] | None = None

    def status(self) -> Answer:
        """``is21 status --json``'s facts, for the page: read at most once a second and
        shared by every viewer, so twenty open pages cost Redis what one does; rates are
        over the time since the reading before."""
        with self._status_lock:
            now, last = time.monotonic(), self._status
            if last is not None and now - last[0] < STATUS_EVERY:
                return 200, last[1]
            before, seconds = (last[2], now - last[0]) if last is not None else (None, 0.0)
            try:
                facts = snapshot(self.client, self.settings, before, seconds)
            except redis.RedisError as exc:
                return 503, {"error": str(exc)}
            state = facts.pop("_state")
            self._status = (now, facts, state)
            return 200, facts

    def capabilities(self) -> Answer:
        """What a client may ask of this fleet: backends, models, events, workers."""
        try:
            workers = live_workers(self.client)
            schema = load_schema(self.client)
        except (redis.RedisError, SchemaError) as exc:
            return 503, {"error": str(exc)}
        return 200, {
            "backends": sorted({str(w.get("backend")) for w in workers}),
            "models": self.models(),
            "events": {name: rule.model_dump() for name, rule in schema.events.items()},
            "schema_version": schema.version,
            "workers": [
                {"worker": w.get("worker"), "backend": w.get("backend"), "models": w.get("models")}
                for w in workers
            ],
        }

    def models(self) -> list[dict[str, Any]]:
        try:
            manifest = load_manifest(manifest_path(self.settings.manifest))
        except ModelError:
            return []
        return [
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

    def get_schema(self) -> Answer:
        try:
            return 200, load_schema(self.client).model_dump()
        except (redis.RedisError, SchemaError) as exc:
            return 503, {"error": str(exc)}

    def put_schema(self, body: bytes, authorization: str | None) -> Answer:
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

    def snapshot(self, incident_id: str) -> tuple[int, bytes, str]:
        """An incident's best frame as the worker kept it (a JPEG, with a TTL)."""
        try:
            jpeg: Any = self.client.get(keys.snapshot(incident_id))
        except redis.RedisError as exc:
            return 503, json.dumps({"error": str(exc)}).encode(), "application/json"
        if jpeg is None:
            message = f"no snapshot of incident {incident_id}: none yet, or past its TTL"
            return 404, json.dumps({"error": message}).encode(), "application/json"
        return 200, bytes(jpeg), "image/jpeg"

    def latest(self, camera: str, raw: bool, thumb: bool = False) -> tuple[int, bytes, str]:
        """A camera's newest frame with its own result drawn on (``raw``: as sent;
        ``thumb``: 320 pixels wide, for the page)."""
        try:
            picture = latest_picture(self.client, camera)
            width = THUMB_WIDTH if thumb else None
            jpeg = picture.jpeg if raw else annotate(picture, self.settings.max_pixels, width)
        except redis.RedisError as exc:
            return 503, json.dumps({"error": str(exc)}).encode(), "application/json"
        except NoFrame as exc:
            return 404, json.dumps({"error": str(exc)}).encode(), "application/json"
        except ImageError as exc:  # what the camera sent: ?raw=1 still serves it
            return 502, json.dumps({"error": f"the frame: {exc}"}).encode(), "application/json"
        return 200, jpeg, "image/jpeg"

    def metrics(self) -> tuple[int, bytes]:
        try:
            return 200, generate_latest(self.registry)
        except redis.RedisError as exc:
            return 503, f"# redis unreachable: {exc}\n".encode()
