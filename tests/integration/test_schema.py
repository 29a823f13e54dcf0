"""Schemas pushed from the CLI or the producer reach running workers from the next frame."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from producer import FrameProducer
from schemas.events import DEFAULT_SCHEMA, EventSchema
from tests.conftest import ROOT, Fleet
from tests.samples import photo

CAT = "COCO_val2014_000000181586.jpg"


def test_schema_show_and_push_round_trip(fleet: Fleet, tmp_path: Path) -> None:
    def is21(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ops", "schema", *args],
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
    assert bad.returncode == 1 and "invalid event schema" in bad.stderr


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
