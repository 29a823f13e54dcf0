"""The event schema in force, kept in Redis so that every worker uses the same one.

Workers learn the current version with every claim (one field read inside the claim
script) and reload only when it changes, so a pushed schema applies from the next frame
on, without a restart.
"""

from __future__ import annotations

from typing import Any

import redis
from pydantic import ValidationError

from schemas import keys
from schemas.events import DEFAULT_SCHEMA, EventSchema

MAX_SCHEMA_BYTES = 64 * 1024


class SchemaError(ValueError):
    """A schema that does not validate; nothing was stored."""


def parse_schema(data: bytes | str) -> EventSchema:
    if len(data) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"schema of {len(data)} bytes exceeds {MAX_SCHEMA_BYTES}")
    try:
        return EventSchema.model_validate_json(data)
    except ValidationError as exc:
        raise SchemaError(f"invalid event schema: {exc}") from exc


def store_schema(client: redis.Redis, schema: EventSchema) -> None:
    """Workers reload on a version change only, so changed rules need a new version."""
    data = schema.model_dump_json().encode()
    current: Any = client.hmget(keys.SCHEMA, "version", "json")
    if current[0] == schema.version.encode() and current[1] != data:
        raise SchemaError(f"version {schema.version} is in use with other rules: bump it")
    client.hset(keys.SCHEMA, mapping={"version": schema.version, "json": data})


def load_schema(client: redis.Redis) -> EventSchema:
    """The stored schema, or the default when none was pushed (or the stored one is bad)."""
    raw: Any = client.hget(keys.SCHEMA, "json")
    if raw is None:
        return DEFAULT_SCHEMA
    return parse_schema(raw)
