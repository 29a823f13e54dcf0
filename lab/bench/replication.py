"""What bounding a failover's loss costs a frame: the producer's submit on a master with
one replica, plain, with ``WAIT 1`` after each frame, and with the master refusing writes
unless a replica acknowledged within a second (``min-replicas-to-write 1``,
``min-replicas-max-lag 1``). Side by side in one run, on loopback, medians.

    python -m is21.lab.bench.replication ../shared/samples/coco
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from is21.lab.sentinel_cluster import SentinelCluster
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.protocol.functions import load_library
from is21.schemas import keys
from is21.schemas.settings import Settings


def measure(images: Path, frames: int = 300, rounds: int = 5) -> dict[str, float]:
    jpegs = [p.read_bytes() for p in sorted(images.glob("*.jpg"))]
    cluster = SentinelCluster().start()
    try:
        client = connect(cluster.url)
        load_library(client)
        client.zadd(keys.WORKERS, {"bench": time.time() * 1000 + 3_600_000})
        client.zadd(keys.ANSWERING, {"bench": time.time() * 1000 + 3_600_000})
        producer = FrameProducer(client, Settings(redis_url=cluster.url))
        modes: dict[str, list[float]] = {"async": [], "WAIT 1": [], "min-replicas-to-write 1": []}
        for _ in range(rounds):
            for mode, samples in modes.items():
                minimum = "1" if mode.startswith("min-") else "0"
                client.config_set("min-replicas-to-write", minimum)
                client.config_set("min-replicas-max-lag", "1")
                for i in range(frames // rounds):
                    t0 = time.perf_counter()
                    ticket = producer.submit(f"cam{i % 8}", jpegs[i % len(jpegs)])
                    if mode == "WAIT 1":
                        client.wait(1, 1000)
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert ticket.fallback is None, ticket.fallback
        client.close()
    finally:
        cluster.stop()
    return {mode: round(statistics.median(s), 3) for mode, s in modes.items()}


if __name__ == "__main__":
    report = measure(Path(sys.argv[1]))
    base = report["async"]
    for mode, ms in report.items():
        print(f"{mode:<26} {ms:7.3f} ms a submit  ({ms / base:.2f}x)")
