"""The event schema in force, kept in Redis so that every worker uses the same one.

Workers learn the current version with every claim (one field read inside the claim
script) and reload only when it changes, so a pushed schema applies from the next frame
on, without a restart.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import redis
from pydantic import ValidationError

from is21.schemas import keys
from is21.schemas.codec import explain
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema

MAX_SCHEMA_BYTES = 64 * 1024

log = logging.getLogger(__name__)


class SchemaError(ValueError):
    """A schema that does not validate; nothing was stored."""


def parse_schema(data: bytes | str) -> EventSchema:
    if len(data) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"schema of {len(data)} bytes exceeds {MAX_SCHEMA_BYTES}")
    try:
        schema = EventSchema.model_validate_json(data)
    except ValidationError as exc:
        raise SchemaError(f"invalid event schema: {explain(exc)}") from exc
    if not schema.events:
        raise SchemaError(
            "the schema has no events, so every frame would be no_event: refused. To "
            'silence one camera, give it "cameras": {"CAM": {"events": []}}'
        )
    return schema


def read_schema_file(path: Path) -> bytes:
    """A schema file's bytes, read no further than the size limit (``/dev/zero`` ends)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise SchemaError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_SCHEMA_BYTES:
        raise SchemaError(f"{path} is over {MAX_SCHEMA_BYTES} bytes: not a schema")
    return data


def store_schema(client: redis.Redis, schema: EventSchema) -> None:
    """Workers reload on a version change only, so changed rules need a new version.

    The version in force is the stored one, or the built-in default's when none is
    stored: pushing the default's version with other rules would be stored and never
    applied, since every worker already runs that version.
    """
    data = schema.model_dump_json().encode()
    current: Any = client.hmget(keys.SCHEMA, "version", "json")
    version, rules = current
    if version is None:
        version, rules = DEFAULT_SCHEMA.version.encode(), DEFAULT_SCHEMA.model_dump_json().encode()
    if version == schema.version.encode() and rules != data:
        raise SchemaError(
            f"version {schema.version} is in force with other rules: bump the version "
            "(workers switch schemas when the version changes)"
        )
    client.hset(keys.SCHEMA, mapping={"version": schema.version, "json": data})


def load_schema(client: redis.Redis) -> EventSchema:
    """The stored schema, or the default when none was pushed (or the stored one is bad)."""
    raw: Any = client.hget(keys.SCHEMA, "json")
    if raw is None:
        return DEFAULT_SCHEMA
    return parse_schema(raw)


class SchemaCache:
    """The schema in force, kept on disk as well (``IS21_STATE_DIR/schema.json``), so that
    it survives a Redis that restarts empty (the shipped compose file runs Redis without
    persistence): without it every worker would silently go back to the default rules.

    ``sync`` runs after every heartbeat: it puts the file back into a Redis that lost the
    schema, and keeps the file up to date when an operator pushed a new one.
    """

    def __init__(self, client: redis.Redis, path: Path) -> None:
        self.client, self.path = client, path
        self._failed: str | None = None  # the last disk error, logged once

    def sync(self) -> None:
        stored: Any = self.client.hget(keys.SCHEMA, "json")
        try:
            on_disk = self.path.read_bytes() if self.path.exists() else None
            if stored is None and on_disk is not None:
                schema = parse_schema(on_disk)
                # HSETNX: a schema pushed meanwhile wins over the copy on disk.
                if self.client.hsetnx(keys.SCHEMA, "json", schema.model_dump_json()):
                    self.client.hset(keys.SCHEMA, "version", schema.version)
                    log.warning("event schema %s put back from %s", schema.version, self.path)
            elif stored is not None and stored != on_disk:
                tmp = self.path.with_suffix(".tmp")
                tmp.write_bytes(stored)
                os.replace(tmp, self.path)
            self._failed = None
        except (OSError, SchemaError) as exc:
            if str(exc) != self._failed:
                log.warning("event schema cache %s: %s", self.path, exc)
            self._failed = str(exc)
