"""Fixtures: a private redis-server, real worker processes, the shared model and photos."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from is21.lab.sentinel_cluster import SentinelCluster
from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect, server_ms
from is21.protocol.functions import load_library
from is21.schemas import keys
from is21.schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODEL_DIR = SHARED / "models"
SAMPLES = SHARED / "samples" / "coco"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow and the NPU tests run for minutes by design (a 3-minute chaos run, a
    conversion in rknn-toolkit2): 15 minutes each instead of the default minute."""
    for item in items:
        slow = item.get_closest_marker("slow") or item.get_closest_marker("npu")
        if slow and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))


def require_shared() -> None:
    if not (MODEL_DIR / "yolox_nano.onnx").is_file():
        pytest.fail(f"shared model not found at {MODEL_DIR}: clone the repo beside ../shared")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server of the test's own, which it may pause, kill or restart."""
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def cluster() -> Iterator[SentinelCluster]:
    deployment = SentinelCluster().start()
    try:
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    conn = connect(redis_server.url)
    conn.flushall()
    load_library(conn)  # what any worker does at its start
    yield conn
    conn.close()


@pytest.fixture
def settings(redis_server: EmbeddedRedis) -> Settings:
    require_shared()
    return Settings(redis_url=redis_server.url, model_dir=MODEL_DIR)


@pytest.fixture
def producer(client: redis.Redis, settings: Settings) -> FrameProducer:
    return FrameProducer(client, settings)


@dataclass
class Fleet:
    """Real ``is21 worker`` processes on the test's redis-server."""

    url: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]
    log_dir: Path

    def start(self, name: str) -> subprocess.Popen[bytes]:
        return self.start_args("--name", name)

    def start_args(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.procs)}-{time.monotonic_ns()}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "is21.ops", "worker", *args],
            env=self.env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def wait_alive(self, client: redis.Redis, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(f"worker exited {p.returncode}:\n{self.logs()}")
            # By the server's clock: a worker killed without a goodbye stays in the set,
            # expired, until the next beat of any worker removes it.
            if client.zcount(keys.WORKERS, server_ms(client), "+inf") >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{count} workers not alive within {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )

    def stop(self) -> list[int]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(timeout=20))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        self.procs.clear()
        return codes


def run_is21(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The is21 command as a user runs it: from the repository root, with only ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "is21.ops", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def fleet_env(url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IS21_")}
    defaults = {
        "IS21_REDIS_URL": url,
        "IS21_MODEL_DIR": str(MODEL_DIR),
        "IS21_INTRA_OP_THREADS": "1",
        "IS21_LOG_LEVEL": "INFO",
    }
    env.update({**defaults, **overrides})
    return env


@pytest.fixture
def fleet_factory(
    client: redis.Redis, redis_server: EmbeddedRedis, tmp_path: Path
) -> Iterator[Callable[..., Fleet]]:
    require_shared()
    fleets: list[Fleet] = []

    def make(workers: int = 2, **env: str) -> Fleet:
        fleet = Fleet(redis_server.url, fleet_env(redis_server.url, **env), [], tmp_path)
        for i in range(workers):
            fleet.start(f"w{i}")
        fleet.wait_alive(client, workers)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.stop()


@pytest.fixture
def fleet(fleet_factory: Callable[..., Fleet]) -> Fleet:
    return fleet_factory(2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Health:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def request(
        self,
        path: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def json(self, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        status, body = self.request(path, **kw)
        return status, json.loads(body)


@pytest.fixture
def health_factory(
    client: redis.Redis, redis_server: Any, tmp_path: Path
) -> Iterator[Callable[..., Health]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(**env: str) -> Health:
        port = free_port()
        log = (tmp_path / f"health-{port}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "is21.ops", "health", "--port", str(port)],
                cwd=ROOT,
                env=fleet_env(redis_server.url, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        health = Health(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health.request("/healthz")
                return health
            except OSError:
                time.sleep(0.05)
        raise AssertionError("health endpoint did not start")

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


# The runbook's address as an operator's Prometheus gives it (its external label).
RUNBOOK_URL = "https://runbooks.example/is21/RUNBOOK.md"


class Prometheus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str, **params: str) -> Any:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())["data"]

    def query(self, expr: str) -> list[Any]:
        return list(self.get("/api/v1/query", query=expr)["result"])

    def firing(self) -> set[str]:
        return {a["labels"]["alertname"] for a in self.alerts() if a["state"] == "firing"}

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/alerts")["alerts"])


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[[Health], Prometheus]]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus missing: install the Debian package 'prometheus' (setup.sh)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(health: Health) -> Prometheus:
        target = health.base.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s,\n"
            f"  external_labels: {{is21_runbook_url: '{RUNBOOK_URL}'}}}}\n"
            f"rule_files: ['{ROOT / 'ops' / 'prometheus' / 'alerts.yml'}']\n"
            "scrape_configs:\n"
            f"  - job_name: is21\n    static_configs: [{{targets: ['{target}']}}]\n"
        )
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        prometheus = Prometheus(port)

        def scraped() -> bool:
            try:
                return bool(prometheus.query('up{job="is21"} == 1'))
            except OSError:
                return False

        deadline = time.monotonic() + 30
        while not scraped():
            if time.monotonic() > deadline:
                raise AssertionError("prometheus did not scrape is21 health within 30 s")
            time.sleep(0.1)
        return prometheus

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)
