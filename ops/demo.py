"""``is21 demo``: the whole frame path on one machine, with nothing to set up.

Starts a private redis-server (unless IS21_REDIS_URL names one), real worker processes,
and replays a folder of photos as several cameras through the producer library.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.producer.replay import load_photos
from is21.schemas import keys
from is21.schemas.settings import Settings


def start_workers(
    url: str, count: int, log_dir: Path, prefix: str
) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "IS21_REDIS_URL": url}
    procs = []
    for i in range(count):
        log = (log_dir / f"worker-{i}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "is21.ops", "worker", "--name", f"{prefix}-{i}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for_workers(
    producer: FrameProducer,
    procs: list[subprocess.Popen[bytes]],
    log_dir: Path,
    timeout: float = 60.0,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for i, p in enumerate(procs):
            if p.poll() is not None:
                tail = (log_dir / f"worker-{i}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"worker {i} exited with code {p.returncode}:\n{tail}")
        if producer.client.zcard(keys.WORKERS) >= len(procs):
            return
        time.sleep(0.1)
    raise RuntimeError(f"workers did not report a heartbeat within {timeout:.0f}s")


def run_demo(settings: Settings, *, images: Path, cameras: int, workers: int) -> int:
    photos = load_photos(images)
    with ExitStack() as stack:
        url = settings.redis_url
        if url is None:
            url = stack.enter_context(EmbeddedRedis()).url
            print(f"started redis-server at {url}")
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="is21-demo-")))
        producer = FrameProducer.from_url(url, settings)
        procs = start_workers(url, workers, log_dir, prefix="demo")
        stack.callback(stop_workers, procs)
        print(f"starting {workers} workers (logs in {log_dir}) ...")
        wait_for_workers(producer, procs, log_dir)

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
