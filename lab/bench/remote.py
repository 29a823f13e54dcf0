"""The fleet with its Redis across a network: 0, 5 and 20 ms of added round trip between
the worker board and Redis (hosts in network namespaces, a delaying TCP proxy in the
Redis host; this kernel has no netem). Does the claim-ahead round trip stay hidden
behind inference? Throughput and the worker's own dispatch time per frame, side by side.

    sudo python -m is21.lab.bench.remote ../shared/samples/coco ../shared/models
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from is21.lab.hosts import Site, SiteFleet
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings

CAMERAS = [f"cam{i:02d}" for i in range(30)]


def flood(producer: FrameProducer, frames: list[bytes], stop: threading.Event) -> None:
    """30 cameras at ~5 fps each: more than the workers can serve."""
    i = 0
    while not stop.wait(0.2):
        for cam in CAMERAS:
            producer.submit(cam, frames[(i + len(cam)) % len(frames)])
        i += 1


def results(fleet: SiteFleet) -> int:
    return sum(int(fleet.admin.xlen(keys.results(cam))) for cam in CAMERAS)


def one_delay(
    fleet: SiteFleet, board: Any, rtt_ms: float, port: int, workers: int, seconds: float
) -> dict[str, float]:
    ip = fleet.redis_host.ip
    proxy = fleet.redis_host.popen(
        [sys.executable, "-m", "is21.lab.tcp_proxy", "--listen", f"{ip}:{port}",
         "--upstream", f"{ip}:6379", "--delay-ms", str(rtt_ms / 2)],
    )  # fmt: skip
    try:
        for n in range(workers):
            fleet.start_worker(board, f"w{port}-{n}", url=fleet.url("worker", port))
        deadline = time.monotonic() + 60
        while fleet.admin.zcard(keys.WORKERS) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start: {fleet.logs()}")
            time.sleep(0.1)
        time.sleep(3)  # warm: every worker past its first frames
        before, t0 = results(fleet), time.monotonic()
        time.sleep(seconds)
        served = (results(fleet) - before) / (time.monotonic() - t0)
        beats = [json.loads(b) for b in fleet.admin.mget(
            [keys.heartbeat(name) for name in fleet.workers]) if b]  # fmt: skip
    finally:
        fleet.stop_workers()
        proxy.terminate()
        proxy.wait()
    return {
        "rtt_ms": rtt_ms,
        "results_per_s": round(served, 1),
        "dispatch_ms_p50": round(statistics.median(b["dispatch_ms_p50"] for b in beats), 2),
        "processing_ms_p50": round(statistics.median(b["processing_ms_p50"] for b in beats), 1),
    }


def measure(images: Path, model_dir: Path, seconds: float = 20, workers: int = 2) -> list[Any]:
    frames = [p.read_bytes() for p in sorted(images.glob("*.jpg"))]
    rows = []
    with Site() as site, tempfile.TemporaryDirectory(prefix="is21-remote-") as tmp:
        fleet = SiteFleet(site, Path(tmp), model_dir)
        board = site.add_host("board1")
        producer = FrameProducer(fleet.admin, Settings(redis_url=fleet.admin_url))
        stop = threading.Event()
        camera_server = threading.Thread(target=flood, args=(producer, frames, stop))
        camera_server.start()
        try:
            for i, rtt in enumerate((0.0, 5.0, 20.0)):
                rows.append(one_delay(fleet, board, rtt, 7000 + i, workers, seconds))
        finally:
            stop.set()
            camera_server.join()
            fleet.stop()
    return rows


if __name__ == "__main__":
    table = measure(Path(sys.argv[1]), Path(sys.argv[2]))
    base = table[0]["results_per_s"]
    print("| added round trip | results/s | of 0 ms | dispatch p50 ms | inference p50 ms |")
    print("| --- | --- | --- | --- | --- |")
    for r in table:
        print(
            f"| {r['rtt_ms']:.0f} ms | {r['results_per_s']} | {r['results_per_s'] / base:.2f} | "
            f"{r['dispatch_ms_p50']} | {r['processing_ms_p50']} |"
        )
