"""``is21 demo``: the whole frame path on one machine, with nothing to set up.

Starts a private redis-server (unless IS21_REDIS_URL names one), real worker processes,
and replays a folder of photos as several cameras through the producer library.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from is21.ops.harness import local_fleet
from is21.producer.replay import load_photos
from is21.schemas.settings import Settings


def run_demo(settings: Settings, *, images: Path, cameras: int, workers: int) -> int:
    photos = load_photos(images)
    print(f"starting {workers} workers ...")
    with local_fleet(settings, workers=workers, prefix="demo") as fleet:
        producer = fleet.producer
        where = f"its own redis-server at {fleet.url}" if fleet.own_redis else fleet.url
        # Their logs go with the run (a worker that fails to start has its log's tail
        # printed), so no folder is named that will not be there afterwards.
        print(f"{workers} workers up on {where}")

        names = [f"demo-cam{i:02d}" for i in range(cameras)]
        rows = []
        latencies = []
        started = time.monotonic()
        for round_start in range(0, len(photos), cameras):
            batch = list(zip(names, photos[round_start : round_start + cameras], strict=False))
            tickets = [
                (cam, photo, time.monotonic(), producer.submit(cam, photo[1]))
                for cam, photo in batch
            ]
            for cam, (fname, _), t0, ticket in tickets:
                result = producer.wait(ticket, timeout=30)
                latency = (time.monotonic() - t0) * 1000
                latencies.append(latency)
                top = ", ".join(f"{d.label} {d.score:.2f}" for d in result.detections[:4])
                rows.append(
                    (
                        cam,
                        fname,
                        result.primary_event if result.status == "ok" else f"error: {result.error}",
                        top or "-",
                        latency,
                        result.worker,
                    )
                )
        elapsed = time.monotonic() - started

        print()
        print(
            f"{'camera':<13} {'photo':<30} {'primary_event':<13} {'latency':>8}  "
            f"{'worker':<8} top detections"
        )
        for cam, fname, event, top, latency, worker in rows:
            print(f"{cam:<13} {fname:<30} {event:<13} {latency:6.1f}ms  {worker:<8} {top}")
        counts = {e: sum(1 for r in rows if r[2] == e) for e in sorted({r[2] for r in rows})}
        print()
        print(
            f"{len(rows)} frames from {cameras} cameras through {workers} workers in "
            f"{elapsed:.2f}s; events: {counts}"
        )
        print(
            f"submit->result latency: median {statistics.median(latencies):.1f} ms, "
            f"max {max(latencies):.1f} ms"
        )
    return 0
