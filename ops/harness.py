"""A whole fleet on this machine, for as long as a ``with`` block: a Redis, N real worker
processes and a producer. ``is21 demo``, ``is21 bench`` and ``is21 soak`` run on it, so
they start, wait for and stop workers the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.schemas import keys
from is21.schemas.settings import Settings


@dataclass
class LocalFleet:
    url: str
    producer: FrameProducer
    workers: list[subprocess.Popen[bytes]]
    log_dir: Path
    own_redis: bool  # a redis-server started for this fleet (else IS21_REDIS_URL's)


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


@contextmanager
def local_fleet(
    settings: Settings, *, workers: int, prefix: str, private: bool = False
) -> Iterator[LocalFleet]:
    """``private``: always a redis-server of its own, even when IS21_REDIS_URL names one
    (the bench writes and deletes freely, and must never do so in someone's Redis)."""
    with ExitStack() as stack:
        url = None if private else settings.redis_url
        own = url is None
        if url is None:
            url = stack.enter_context(EmbeddedRedis()).url
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"is21-{prefix}-")))
        producer = FrameProducer.from_url(url, settings)
        procs = start_workers(url, workers, log_dir, prefix)
        stack.callback(stop_workers, procs)
        wait_for_workers(producer, procs, log_dir)
        yield LocalFleet(url, producer, procs, log_dir, own)
