"""The baseline ``is21 bench`` compares against: what RQ's documentation leads to.

One RQ job per frame, the JPEG inside the job (base64 in JSON: pickle stays off the wire
even here), RQ's default forking ``Worker`` with the model preloaded in the parent as
RQ's docs suggest, default job settings. Results go to a stream so the benchmark driver
reads both designs the same way. Not a product path; only ``is21 bench`` uses it.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rq import Queue
from rq.serializers import JSONSerializer

from is21.ops.harness import stop_workers
from is21.protocol.connection import connect
from is21.schemas import codec, keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.detector import Detector

QUEUE = "is21-naive"
_detectors: list[Detector] = []


def detect_frame(camera_id: str, seq: int, jpeg_b64: str) -> None:
    """The job: decode, detect, publish; everything per frame, nothing shared but the model."""
    settings = Settings()
    client = connect(settings.effective_redis_url)
    t0 = time.perf_counter()
    jpeg = base64.b64decode(jpeg_b64)
    dets = [d for det in _detectors for d in det.detect(jpeg, settings.max_pixels)]
    primary, events = DEFAULT_SCHEMA.evaluate(dets)
    result = Result(
        camera_id=camera_id,
        frame_id="",
        seq=seq,
        status="ok",
        primary_event=primary,
        events=events,
        detections=dets,
        processing_ms=(time.perf_counter() - t0) * 1000,
    )
    client.xadd(keys.results(camera_id), {"seq": seq, "data": codec.encode(result)})


def main() -> None:
    """A worker process: preload the model, then RQ's default (forking) Worker."""
    from rq import Worker

    from is21.workers.detector import detectors_from_settings

    settings = Settings()
    _detectors.extend(detectors_from_settings(settings))
    worker = Worker(
        [QUEUE],
        connection=connect(settings.effective_redis_url),
        serializer=JSONSerializer,
        name=f"naive-{os.getpid()}",
    )
    worker.work(logging_level="WARNING")


@contextmanager
def naive_workers(url: str, log_dir: Path, workers: int) -> Iterator[Queue]:
    """The design the fleet is compared with: one plain RQ job per frame, in as many RQ
    worker processes as the fleet has workers."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "is21.lab.naive_baseline"],
            env={**os.environ, "IS21_REDIS_URL": url},
            stdout=subprocess.DEVNULL,
            stderr=(log_dir / "naive.log").open("wb"),
        )
        for _ in range(workers)
    ]
    try:
        yield Queue(QUEUE, connection=connect(url), serializer=JSONSerializer)
    finally:
        stop_workers(procs)


if __name__ == "__main__":
    main()
