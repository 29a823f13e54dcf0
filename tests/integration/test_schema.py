"""Schemas pushed from the CLI or the producer reach running workers from the next frame."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.schema_store import SchemaError
from is21.schemas import keys
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from tests.conftest import ROOT, Fleet, fleet_env, run_is21
from tests.samples import photo

CAT = "COCO_val2014_000000181586.jpg"


def test_schema_show_and_push_round_trip(fleet: Fleet, tmp_path: Path) -> None:
    def is21(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "is21.ops", "schema", *args],
            cwd=ROOT,
            env=fleet.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    shown = is21("show")
    assert shown.returncode == 0
    schema = json.loads(shown.stdout)
    assert schema["version"] == DEFAULT_SCHEMA.version
    schema["version"] = "2026-12-01.1"
    schema["cameras"] = {"pasture": {"events": ["human"]}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    pushed = is21("push", str(tmp_path / "s.json"))
    assert pushed.returncode == 0 and "2026-12-01.1" in pushed.stdout
    assert EventSchema.model_validate_json(is21("show").stdout) == EventSchema.model_validate(
        schema
    )
    (tmp_path / "bad.json").write_text('{"version": "2026-12-01.2", "events": {}}')
    bad = is21("push", str(tmp_path / "bad.json"))
    assert bad.returncode == 2 and "invalid event schema" in bad.stderr


def test_per_camera_override_applied_by_workers(fleet: Fleet, producer: FrameProducer) -> None:
    producer.push_schema(
        {
            **DEFAULT_SCHEMA.model_dump(),
            "version": "2026-12-02.1",
            "cameras": {
                "pasture": {"events": ["human"]},
                "strict": {"min_scores": {"animal": 0.99}},
            },
        }
    )
    results = {
        cam: producer.wait(producer.submit(cam, photo(CAT)), timeout=20)
        for cam in ("pasture", "strict", "yard")
    }
    assert {c: r.primary_event for c, r in results.items()} == {
        "pasture": "no_event",
        "strict": "no_event",
        "yard": "animal",
    }
    assert all(r.schema_version == "2026-12-02.1" for r in results.values())
    assert any(d.label == "cat" for d in results["pasture"].detections)  # still detected


def schema_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_is21("schema", *args, env=fleet_env(url))


def test_rules_pushed_under_the_version_in_force_are_refused(
    client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """Nothing stored yet: the default's version is in force, in every worker. Edited
    rules under that version would be stored and never applied."""
    schema = json.loads(schema_cli(redis_server.url, "show").stdout)
    schema["events"]["human"]["min_score"] = 0.9
    (tmp_path / "edited.json").write_text(json.dumps(schema))
    pushed = schema_cli(redis_server.url, "push", str(tmp_path / "edited.json"))
    assert pushed.returncode == 2 and "in force with other rules" in pushed.stderr
    assert client.hget(keys.SCHEMA, "json") is None
    # The same rules, unchanged, are no change; a new version goes through.
    (tmp_path / "same.json").write_text(schema_cli(redis_server.url, "show").stdout)
    assert schema_cli(redis_server.url, "push", str(tmp_path / "same.json")).returncode == 0
    schema["version"] = "2026-12-02.7"
    (tmp_path / "bumped.json").write_text(json.dumps(schema))
    assert schema_cli(redis_server.url, "push", str(tmp_path / "bumped.json")).returncode == 0
    assert FrameProducer(client).current_schema().events["human"].min_score == 0.9


def test_a_schema_without_events_is_refused(client: redis.Redis) -> None:
    empty = {"version": "2026-12-02.8", "events": {}, "priority": []}
    with pytest.raises(SchemaError, match="no events"):
        FrameProducer(client).push_schema(empty)
    assert client.hget(keys.SCHEMA, "json") is None


@pytest.mark.parametrize("source", ["folder", "/dev/zero", "missing.json"])
def test_schema_push_of_what_is_not_a_file_says_so(
    client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path, source: str
) -> None:
    path = {"folder": str(tmp_path), "missing.json": str(tmp_path / "missing.json")}.get(
        source, source
    )
    pushed = schema_cli(redis_server.url, "push", path)
    assert pushed.returncode == 2, pushed.stderr
    assert pushed.stderr.startswith("is21: ") and "Traceback" not in pushed.stderr
    assert client.hget(keys.SCHEMA, "json") is None
