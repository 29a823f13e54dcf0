"""Frames are read back from Redis as untrusted input: anyone with write access to a
frame stream could have put anything there. Malformed metadata gives an error result."""

from __future__ import annotations

import pytest
import redis

from is21.producer import FrameProducer
from is21.schemas import codec, keys
from is21.schemas.settings import Settings
from is21.workers.claims import Claim
from is21.workers.engine import Engine
from tests.helpers import play_a_worker, results_of
from tests.samples import photo


@pytest.mark.parametrize(
    "meta",
    [
        b"\xc1",  # not msgpack
        codec.packb([1, 2]),  # not a map
        codec.packb({"captured_at": "yesterday"}),  # not a timestamp
        codec.packb({"request_id": "a:b\n" * 100}),  # an id that escapes the namespace
        b"\x91" * 100_000 + b"\xc0",  # nested 100 000 deep
    ],
)
def test_malformed_metadata_in_a_stream_gives_an_error_result(
    producer: FrameProducer, client: redis.Redis, settings: Settings, meta: bytes
) -> None:
    job_id = play_a_worker(client)
    client.xadd(keys.frames("evil"), {"meta": meta, "jpeg": photo("COCO_val2014_000000181586.jpg")})
    client.fcall("is21_register", 1, keys.frames("evil"))
    engine = Engine(client, settings, [], "test-worker")
    claim = engine.scripts.claim(job_id)
    assert isinstance(claim, Claim)
    served = engine.detect(claim)
    result = served.result
    assert result.status == "error" and "CodecError" in (result.error or ""), result.error
    engine.publish(job_id, served)
    (published,) = results_of(client, "evil")
    assert published.status == "error" and published.seq == claim.seq
