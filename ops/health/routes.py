"""What the endpoint serves besides ``/healthz``: capabilities, the event schema (read,
and replaced by an admin), and the fleet's metrics. These may read much more than a probe
(``/metrics`` reads every camera), so they run on Redis connections of their own."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from typing import Any

import redis
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from is21.ops.fleet_state import live_workers
from is21.ops.metrics import FleetCollector
from is21.protocol.schema_store import SchemaError, load_schema, parse_schema, store_schema
from is21.schemas import keys
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError, load_manifest, manifest_path

log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]


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

    def metrics(self) -> tuple[int, bytes]:
        try:
            return 200, generate_latest(self.registry)
        except redis.RedisError as exc:
            return 503, f"# redis unreachable: {exc}\n".encode()
