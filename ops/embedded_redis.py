"""A private redis-server on a unix socket in a temporary folder.

Used by ``is21 demo`` and the test fixtures so that neither needs, nor touches, a Redis
that someone else runs on port 6379.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

import redis

from is21.ops.lifecycle import Lifecycle


class RedisUnavailable(RuntimeError):
    pass


class EmbeddedRedis(Lifecycle):
    def __init__(self, *, extra_args: tuple[str, ...] = ()) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable(
                "redis-server not found on PATH: install it (Debian/Ubuntu: "
                "`apt-get install redis-server`) or set IS21_REDIS_URL to a running Redis"
            )
        self.binary = binary
        self.extra_args = extra_args
        self.dir = Path(tempfile.mkdtemp(prefix="is21-redis-"))
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> Self:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.dir / "redis.log"),
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RedisUnavailable(f"redis-server exited at start: {log}")
            try:
                redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping()
                return self
            except (redis.AuthenticationError, redis.ResponseError):
                return self  # it answered; it wants credentials (an ACL test)
            except redis.RedisError:
                time.sleep(0.02)
        self.stop()
        raise RedisUnavailable(f"redis-server did not answer on {self.socket} within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)
