"""The two atomic steps of serving a frame: claim a camera, publish and release it.

Kept apart from the job loop so that tests (and later tools) can drive the dispatch
protocol directly against a real Redis, e.g. to play a worker that dies mid-frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from redis.commands.core import Script

from producer.connection import load_script, run_scripts
from schemas import codec, keys
from schemas.results import Result
from schemas.settings import Settings


@dataclass
class Claim:
    camera_id: str
    frame_id: str
    seq: int
    meta: bytes  # empty when the frame was trimmed before it could be read
    jpeg: bytes
    skipped: int
    queue_ms: float
    claimed_at: datetime
    schema_version: str  # the version in force in Redis; '' when none was pushed


class ClaimScripts:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings
        self._claim = load_script(client, "workers", "claim.lua")
        self._publish = load_script(client, "workers", "publish.lua")

    def _claim_call(self, job_id: str) -> tuple[Script, list[Any], list[Any]]:
        return (
            self._claim,
            [keys.READY, keys.LEASES, keys.JOBS, keys.WORKERS, keys.SCHEMA],
            [
                keys.PREFIX,
                job_id,
                int(self.settings.lease_ttl * 1000),
                int(self.settings.lease_ttl * 1000),
                int(self.settings.max_frame_age * 1000),
            ],
        )

    def _publish_call(self, job_id: str, result: Result) -> tuple[Script, list[Any], list[Any]]:
        result.published_at = datetime.now(UTC)
        return (
            self._publish,
            [
                keys.camera(result.camera_id),
                keys.results(result.camera_id),
                keys.EVENTS,
                keys.LEASES,
                keys.READY,
                keys.WAKE,
                keys.INFERENCE_HISTOGRAM,
            ],
            [
                result.camera_id,
                job_id,
                result.seq,
                result.status,
                result.primary_event,
                codec.encode(result),
                int(result.is_event),
                self.settings.events_maxlen,
                keys.inference_bucket(result.processing_ms),
                result.processing_ms,
            ],
        )

    def claim(self, job_id: str) -> Claim | str | None:
        (reply,) = run_scripts(self.client, [self._claim_call(job_id)])
        return self._read_claim(reply)

    def publish(self, job_id: str, result: Result) -> bool:
        """Publish the result and release the camera, unless this job's claim has lapsed."""
        (published,) = run_scripts(self.client, [self._publish_call(job_id, result)])
        return bool(published)

    def publish_and_claim(self, job_id: str, result: Result) -> tuple[bool, Claim | str | None]:
        """Both in one round trip: the frame's result out, the next camera in."""
        published, reply = run_scripts(
            self.client, [self._publish_call(job_id, result), self._claim_call(job_id)]
        )
        return bool(published), self._read_claim(reply)

    def _read_claim(self, reply: Any) -> Claim | str | None:
        if reply is None:
            return None
        if reply == b"retire":
            return "retire"
        cam, frame_id, seq, skipped, age, schema_version = reply
        # Read the frame with a plain command: through Lua a JPEG costs Redis ~0.3 ms.
        entries: Any = self.client.xrange(keys.frames(cam.decode()), frame_id, frame_id)
        fields = entries[0][1] if entries else {}
        return Claim(
            cam.decode(),
            frame_id.decode(),
            int(seq),
            fields.get(b"meta", b""),
            fields.get(b"jpeg", b""),
            int(skipped),
            float(age),
            datetime.now(UTC),
            schema_version.decode(),
        )
