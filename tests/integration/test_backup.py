"""The restore drill of the runbook: back up a board, restore into an empty model folder,
`is21 models verify` passes, and a worker starts on it and serves with the schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import redis

from is21.producer import FrameProducer
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.settings import Settings
from is21.workers.manifest import REPO_MANIFEST
from tests.conftest import MODEL_DIR, Fleet, fleet_env, require_shared, run_is21
from tests.helpers import JPEG
from tests.samples import photo


def test_backup_then_restore_into_an_empty_board_serves_again(
    client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    require_shared()
    board = tmp_path / "board"  # what /var/lib/is21/models is on the device
    board.mkdir()
    shutil.copyfile(MODEL_DIR / "yolox_nano.onnx", board / "yolox_nano.onnx")
    shutil.copyfile(REPO_MANIFEST, board / "manifest.toml")
    env_file = tmp_path / "is21.env"
    env_file.write_text("IS21_LOG_LEVEL=INFO\n")
    rules = {**DEFAULT_SCHEMA.model_dump(), "version": "2026-12-02.5"}
    rules["events"]["animal"]["min_score"] = 0.99
    FrameProducer(client, settings).push_schema(rules)
    url = settings.effective_redis_url
    before = {"IS21_MODEL_DIR": str(board), "IS21_MANIFEST": str(board / "manifest.toml")}
    out = run_is21(
        "backup",
        str(tmp_path / "backup"),
        "--include",
        str(env_file),
        env=fleet_env(url, **before),
    )
    assert out.returncode == 0, out.stderr

    client.flushall()  # the board is lost: an empty model folder, a Redis that forgot
    fresh = tmp_path / "new-board" / "models"
    after = {"IS21_MODEL_DIR": str(fresh), "IS21_MANIFEST": str(fresh / "manifest.toml")}
    out = run_is21("restore", str(tmp_path / "backup"), env=fleet_env(url, **after))
    assert out.returncode == 0, out.stderr
    assert f"put {tmp_path / 'backup' / 'files' / 'is21.env'} back at {env_file}" in out.stdout
    verify = run_is21("models", "verify", env=fleet_env(url, **after))
    assert verify.returncode == 0 and verify.stdout.startswith("ok "), verify.stdout

    fleet = Fleet(url, fleet_env(url, **after), [], tmp_path)
    fleet.start("restored")
    fleet.wait_alive(client, 1)
    try:
        producer = FrameProducer(client, settings)
        result = producer.wait(producer.submit("after-restore", photo(JPEG)), timeout=30)
        assert result.status == "ok" and result.schema_version == "2026-12-02.5"
        assert result.primary_event == "no_event"  # the cat at 0.76: the restored rules
    finally:
        assert fleet.stop() == [0]
    index = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert set(index["files"]) == {
        "models/manifest.toml",
        "models/yolox_nano.onnx",
        "schema.json",
        "files/is21.env",
    }


def test_a_backup_missing_a_current_weight_file_writes_nothing(
    client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    board = tmp_path / "board"
    board.mkdir()
    shutil.copyfile(REPO_MANIFEST, board / "manifest.toml")  # names yolox_nano.onnx, absent
    env = {"IS21_MODEL_DIR": str(board), "IS21_MANIFEST": str(board / "manifest.toml")}
    out = run_is21(
        "backup", str(tmp_path / "backup"), env=fleet_env(settings.effective_redis_url, **env)
    )
    assert out.returncode == 2 and "nothing backed up" in out.stderr, out.stderr
    assert not (tmp_path / "backup").exists()
