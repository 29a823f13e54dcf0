"""Statements of docs/protocol.md that a client written from it alone relies on, each
checked against a real worker with the document's own commands (plain XADD, FCALL and
XREAD; no is21 code on the client's side), so that the fleet cannot stop doing them
without a test failing (issue 28: a Node.js client written from the document found them
wrong or unstated)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import msgpack
import pytest
import redis

from is21.schemas import keys
from tests.conftest import ROOT, SAMPLES, Fleet, run_is21
from tests.helpers import JPEG
from tests.samples import photo


def submit(client: redis.Redis, cam: str, fields: dict[str, Any]) -> tuple[str, str]:
    """Section 2: XADD then FCALL is21_register, in one round trip."""
    frames = f"is21:frames:{cam}"
    pipe = client.pipeline(transaction=False)
    pipe.xadd(frames, fields, maxlen=30, approximate=False)
    pipe.fcall("is21_register", 1, frames)
    frame_id, (_seq, after) = pipe.execute()
    return frame_id.decode(), after.decode()


def result(client: redis.Redis, cam: str, after: str) -> dict[str, Any]:
    """Section 3: XREAD the camera's results after results_after."""
    reply: Any = client.xread({f"is21:results:{cam}": after}, count=1, block=20_000)
    assert reply, f"no result for {cam}"
    data: dict[str, Any] = msgpack.unpackb(reply[0][1][0][1][b"data"])
    return data


def meta(**fields: Any) -> bytes:
    packed: bytes = msgpack.packb(fields)
    return packed


def test_datetimes_in_a_result_are_utc_with_z(fleet: Fleet, client: redis.Redis) -> None:
    _id, after = submit(
        client,
        "tz",
        {"meta": meta(captured_at="2026-12-02T09:30:00.120+09:00"), "jpeg": photo(JPEG)},
    )
    data = result(client, "tz", after)
    assert data["status"] == "ok"
    assert data["captured_at"] == "2026-12-02T00:30:00.120000Z"  # the same instant
    assert data["claimed_at"].endswith("Z") and data["published_at"].endswith("Z")


@pytest.mark.parametrize(
    ("captured_at", "says"),
    [
        ("2026-12-02T09:30:00", "has no offset"),
        (1796179212, "captured_at must be an ISO 8601 string, not int"),
        ("yesterday", "is not ISO 8601"),
    ],
)
def test_a_captured_at_without_an_offset_is_an_error_result(
    fleet: Fleet, client: redis.Redis, captured_at: Any, says: str
) -> None:
    _id, after = submit(
        client,
        "naive",
        {"meta": meta(captured_at=captured_at, request_id="r-1"), "jpeg": photo(JPEG)},
    )
    data = result(client, "naive", after)
    assert data["status"] == "error" and says in data["error"], data


def test_request_id_is_echoed_when_the_jpeg_is_missing(fleet: Fleet, client: redis.Redis) -> None:
    _id, after = submit(client, "nojpeg", {"meta": meta(request_id="r-42")})
    data = result(client, "nojpeg", after)
    assert data["status"] == "error" and "no jpeg field" in data["error"]
    assert data["request_id"] == "r-42"


def test_a_clients_fallbacks_counted_as_documented_reach_status_and_metrics(
    client: redis.Redis, fleet: Fleet
) -> None:
    """Section 1: a client that falls back counts it, HINCRBY is21:counters fallback and
    fallback:REASON; is21 status and /metrics show them beside the Python client's."""
    client.hincrby(keys.COUNTERS, "fallback", 2)
    client.hincrby(keys.COUNTERS, "fallback:no_worker", 2)
    out = run_is21("status", "--once", "--json", env=fleet.env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["fallbacks"] == {"no_worker": 2}


def test_the_node_client_counts_its_fallbacks(client: redis.Redis, fleet: Fleet) -> None:
    """With no worker alive the Node.js client treats every frame as no_event and counts
    each, as section 1 says."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed: run scripts/setup.sh")
    fleet.stop()
    client.delete(keys.ANSWERING)
    run = subprocess.run(
        [node, "submit.mjs", "--images", str(SAMPLES), "--cameras", "2", "--url", fleet.url],
        cwd=ROOT / "examples" / "node",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    seen = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(seen) == 16 and all(s["status"] == "fallback" for s in seen)
    assert client.hget(keys.COUNTERS, "fallback:no_worker") == b"16"
    assert client.hget(keys.COUNTERS, "fallback") == b"16"
