"""``is21 backup DIR`` and ``is21 restore DIR``: what a board needs to serve again.

A backup holds the manifest, every weight file it names (current and previous, so that
rollback still works after a restore), the event schema in force, and any operator file
named with ``--include`` (``/etc/is21/is21.env``, the Redis ``users.acl``), with a
``backup.json`` of sha256 sums. Redis itself is not backed up: it holds frames and
results, which the fleet does not keep (docs/protocol.md).

A restore copies the weights and the manifest into ``IS21_MODEL_DIR`` after checking
every sum, and puts the schema back into Redis when Redis has none; included operator
files are listed, for the operator to put back where they belong.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import redis

from is21.protocol.connection import connect
from is21.protocol.schema_store import load_schema, parse_schema, store_schema
from is21.schemas import keys
from is21.schemas.settings import Settings
from is21.workers.manifest import ModelError, load_manifest, manifest_path, sha256_of

INDEX = "backup.json"


def model_files(settings: Settings, manifest: Path) -> list[str]:
    """The weight files to keep: every current one (refused if missing, before anything is
    copied), and every ``previous`` one still on disk, so that rollback works after a
    restore."""
    files = set()
    for spec in load_manifest(manifest).detector:
        if not (settings.model_dir / spec.file).is_file():
            raise ModelError(
                f"{settings.model_dir / spec.file}: named by the manifest but missing: "
                "nothing backed up"
            )
        files.add(spec.file)
        if spec.previous is not None and (settings.model_dir / spec.previous.file).is_file():
            files.add(spec.previous.file)
    return sorted(files)


def backup(
    client: redis.Redis, settings: Settings, dest: Path, include: list[Path]
) -> dict[str, Any]:
    manifest = manifest_path(settings.manifest)
    weights = model_files(settings, manifest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "models").mkdir(exist_ok=True)
    files: dict[str, str] = {}

    def keep(source: Path, name: str) -> None:
        shutil.copyfile(source, dest / name)
        files[name] = sha256_of(dest / name)

    keep(manifest, "models/manifest.toml")
    for name in weights:
        keep(settings.model_dir / name, f"models/{name}")
    stored: Any = client.hget(keys.SCHEMA, "json")
    if stored is not None:
        (dest / "schema.json").write_bytes(stored)
        files["schema.json"] = sha256_of(dest / "schema.json")
    for extra in include:
        (dest / "files").mkdir(exist_ok=True)
        keep(extra, f"files/{extra.name}")
    index = {"files": files, "included_from": {p.name: str(p) for p in include}}
    (dest / INDEX).write_text(json.dumps(index, indent=2) + "\n")
    return index


def restore(client: redis.Redis, settings: Settings, source: Path) -> list[str]:
    """Check every sum first, then copy; return what the operator still has to do."""
    index = json.loads((source / INDEX).read_text())
    for name, digest in index["files"].items():
        if sha256_of(source / name) != digest:
            raise ModelError(f"{source / name}: sha256 differs from the backup's: nothing restored")
    settings.model_dir.mkdir(parents=True, exist_ok=True)
    for name in index["files"]:
        if name.startswith("models/") and name != "models/manifest.toml":
            shutil.copyfile(source / name, settings.model_dir / name.removeprefix("models/"))
    todo = []
    if settings.manifest is None:  # never over the manifest shipped in the package
        todo.append(f"set IS21_MANIFEST={settings.model_dir / 'manifest.toml'}")
    shutil.copyfile(
        source / "models" / "manifest.toml",
        settings.manifest or settings.model_dir / "manifest.toml",
    )
    if "schema.json" in index["files"]:
        schema = parse_schema((source / "schema.json").read_bytes())
        if client.hget(keys.SCHEMA, "json") is None:
            store_schema(client, schema)
        elif load_schema(client) != schema:
            todo.append(f"Redis holds another schema than the backup's {schema.version}: kept")
    for name, origin in index["included_from"].items():
        todo.append(f"put {source / 'files' / name} back at {origin}")
    return todo


def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """``is21 backup DIR [--include FILE ...]`` and ``is21 restore DIR``."""
    client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
    if args.command == "backup":
        index = backup(client, settings, Path(args.dir), [Path(p) for p in args.include])
        print(f"backed up {len(index['files'])} files to {args.dir} ({INDEX} lists their sha256)")
        return 0
    for line in restore(client, settings, Path(args.dir)):
        print(f"to do: {line}")
    print(f"restored into {settings.model_dir}; check with: is21 models verify")
    return 0
