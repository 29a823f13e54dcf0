"""docs/protocol.md's promise for every function of the library: an error reply means
nothing changed. Each function is called with each key it declares turned into a type
it does not expect, on a real redis-server, and the whole keyspace is compared."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
import redis

from is21.producer import FrameProducer
from is21.protocol.functions import Call, call_functions
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts, Published
from is21.workers.incidents.follow import Followed
from tests.helpers import JPEG, play_a_worker
from tests.samples import photo

JOB = "job-x"


def snapshot(client: redis.Redis) -> dict[bytes, Any]:
    return {key: (client.type(key), client.dump(key)) for key in client.keys("*")}


STRINGS = {keys.SERVED, keys.heartbeat("w"), keys.tracks("cam")}
INCIDENT = "cam:human:1000"
# A frame that opens an incident and is its best: every key of the publish is written.
FOLLOWED = Followed(
    b"state",
    5000,
    [{"type": "new", "id": INCIDENT, "kind": "human"}],
    {INCIDENT: b"record"},
    [INCIDENT],
    b"jpeg",
)


def break_key(client: redis.Redis, key: str) -> None:
    """Give the key a type no function expects of it."""
    client.delete(key)
    if key in STRINGS:
        client.rpush(key, "wrong type")
    else:
        client.set(key, "wrong type")


def in_hand(producer: FrameProducer, scripts: ClaimScripts) -> Claim:
    """A live worker holding camera cam's frame, with a second camera waiting."""
    play_a_worker(producer.client, JOB)
    producer.submit("cam", photo(JPEG))
    claim = scripts.claim(JOB)
    assert isinstance(claim, Claim)
    producer.submit("other", photo(JPEG))
    producer.client.hset(keys.SCHEMA, "version", "")
    return claim


def result_of(claim: Claim) -> Result:
    return Result(camera_id=claim.camera_id, frame_id=claim.frame_id, seq=claim.seq, status="ok")


def calls(scripts: ClaimScripts, claim: Claim) -> dict[str, Call]:
    """One real call of each function, as the fleet or a client makes it."""
    return {
        "is21_claim": scripts._claim_call(JOB, reserve=True),
        "is21_publish": scripts._publish_call(JOB, result_of(claim), FOLLOWED),
        "is21_release": scripts._release_call(JOB, claim.camera_id),
        "is21_beat": Call(
            "is21_beat",
            [keys.heartbeat("w"), keys.WORKERS, keys.PROTOCOL, keys.ANSWERING],
            ["w", "{}", 5000, "0", "version", 1],
        ),
        "is21_ensure_jobs": Call("is21_ensure_jobs", [keys.JOBS, keys.WORKERS], ["", "j", 3000]),
        "is21_alive": Call("is21_alive", [], []),
        "is21_sweep": Call(
            "is21_sweep",
            [
                keys.tracks("cam"),
                keys.camera("cam"),
                keys.INCIDENTS,
                keys.INCIDENTS_OPEN,
                keys.INCIDENTS_DUE,
            ],
            ["cam", "", "state", "", 100, 1, *FOLLOWED.args()],
        ),
    }


def declared(function: str) -> list[str]:
    """The keys a real call of ``function`` declares, as the fleet makes the call."""
    scripts = ClaimScripts(cast(redis.Redis, None), Settings())  # builds calls, sends none
    claim = Claim("cam", "1-0", 1, b"", b"", 0, 0.0, datetime.now(UTC), "")
    return list(calls(scripts, claim)[function].keys)


# Every key each function declares, and is21_alive's one (it declares none: clients call
# it with FCALL_RO 0); a camera's results stream and the events stream are left out: Redis
# refusing those fails the frame instead (the test below).
REFUSED_NOT_ERRORS = {keys.results("cam"), keys.EVENTS}
CASES = [
    *[
        (function, key)
        for function in (
            "is21_claim",
            "is21_publish",
            "is21_release",
            "is21_beat",
            "is21_ensure_jobs",
            "is21_sweep",
        )
        for key in declared(function)
        if key not in REFUSED_NOT_ERRORS
    ],
    ("is21_alive", keys.ANSWERING),
]


@pytest.mark.parametrize(("function", "key"), CASES)
def test_an_error_reply_changes_nothing(
    producer: FrameProducer, client: redis.Redis, function: str, key: str
) -> None:
    scripts = ClaimScripts(client, producer.settings)
    call = calls(scripts, in_hand(producer, scripts))[function]
    client.set(keys.SERVED, "1")  # every key a function touches exists
    client.hset(keys.CAMERA_PROBLEMS, "elsewhere", "1 reason")
    break_key(client, key)
    before = snapshot(client)
    with pytest.raises(redis.ResponseError, match=rf"{function}: {key} is a \w+, not a"):
        call_functions(client, [call])
    assert snapshot(client) == before


@pytest.mark.parametrize("stream", [keys.results("cam"), keys.EVENTS])
def test_a_result_redis_refuses_to_store_fails_its_frame_and_releases_the_camera(
    producer: FrameProducer, client: redis.Redis, stream: str
) -> None:
    scripts = ClaimScripts(client, producer.settings)
    claim = in_hand(producer, scripts)
    break_key(client, stream)
    event = result_of(claim).model_copy(update={"primary_event": "animal", "events": ["animal"]})
    outcome, why = scripts.publish(JOB, event)
    camera: Any = client.hgetall(keys.camera("cam"))
    problem: Any = client.hget(keys.CAMERA_PROBLEMS, "cam")
    assert f"{stream} is a string, not a stream" in problem.decode()
    assert why is None or why in problem.decode()
    assert b"holder" not in camera and client.zscore(keys.LEASES, "cam") is None
    if stream == keys.EVENTS:  # the result is out; only its copy as an event is missing
        assert outcome is Published.STORED and camera[b"processed"] == b"1"
    else:
        assert outcome is Published.REFUSED and camera[b"failed"] == b"1"
        assert b"processed" not in camera
    # Fixed, the camera's next result is stored and its problem cleared.
    client.delete(stream)
    producer.submit("cam", photo(JPEG))
    again = scripts.claim(JOB)
    assert isinstance(again, Claim) and again.camera_id in ("cam", "other")
    while again.camera_id != "cam":
        assert scripts.publish(JOB, result_of(again))[0] is Published.STORED
        again = scripts.claim(JOB)
        assert isinstance(again, Claim)
    assert scripts.publish(JOB, result_of(again))[0] is Published.STORED
    assert client.hget(keys.CAMERA_PROBLEMS, "cam") is None
