"""What a safer ``down-after-milliseconds`` costs a failover: the time from killing the
master to a majority of the sentinels naming the replica, for each setting, the sites
built in turn in one run (a master, a replica, three sentinels on loopback), medians.

    python -m is21.lab.bench.failover [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time

import redis

from is21.lab.sentinel_cluster import SentinelCluster

DOWN_AFTER_MS = (1000, 5000)  # what the tests use; what ops/redis/README.md asks of a board


def promotion_s(down_after_ms: int) -> float:
    cluster = SentinelCluster(down_after_ms=down_after_ms).start()
    try:
        old = cluster.master_port()
        killed = time.monotonic()
        cluster.kill(old)
        deadline = killed + down_after_ms / 1000 + 30
        while time.monotonic() < deadline:
            try:
                if cluster.master_port() != old:
                    return time.monotonic() - killed
            except redis.RedisError:  # no majority yet: asked again
                pass
            time.sleep(0.05)
        raise RuntimeError(f"no other master named within 30 s:\n{cluster.logs()}")
    finally:
        cluster.stop()


def measure(rounds: int = 3) -> dict[int, float]:
    samples: dict[int, list[float]] = {d: [] for d in DOWN_AFTER_MS}
    for _ in range(rounds):
        for down_after, taken in samples.items():
            taken.append(promotion_s(down_after))
    return {d: round(statistics.median(s), 2) for d, s in samples.items()}


if __name__ == "__main__":
    report = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    for down_after, seconds in report.items():
        judged = seconds - down_after / 1000
        print(
            f"down-after-milliseconds {down_after:>5}: another master named {seconds:5.2f} s "
            f"after the kill ({judged:.2f} s after the judgement)"
        )
