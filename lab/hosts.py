"""Hosts on one machine: a network namespace each, joined by a bridge, to test what
crosses a network (a worker board cut off, a camera server cut off) without one.

    with Site() as site:
        redis_host = site.add_host("redis")        # 10.21.0.1
        board = site.add_host("board1")            # 10.21.0.2
        board.popen(["redis-cli", "-h", redis_host.ip, "ping"])
        site.cut(board)                            # its link down: a cable pulled
        site.heal(board)

The bridge lives in a namespace of its own too, so nothing is added to the machine's own
network and all traffic stays between the namespaces the site made; ``stop`` removes
them. Needs root and iproute2 (``ip netns``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from is21.ops.lifecycle import Lifecycle
from is21.protocol.connection import connect

SUBNET = "10.21.0"


class SiteUnavailable(RuntimeError):
    pass


def ip(*args: str, netns: str | None = None) -> None:
    argv = ["ip", *(["-n", netns] if netns else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise SiteUnavailable(f"{' '.join(argv)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    ip: str
    port: str  # its cable's end on the switch

    def argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv]

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(argv), **kwargs)


class Site(Lifecycle):
    def __init__(self) -> None:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise SiteUnavailable("a site of network namespaces needs root and iproute2 (ip)")
        self.tag = secrets.token_hex(2)  # names of this site's namespaces and links
        self.switch = f"is21-{self.tag}-sw"
        self.hosts: list[Host] = []
        ip("netns", "add", self.switch)
        ip("link", "add", "br0", "type", "bridge", netns=self.switch)
        ip("link", "set", "br0", "up", netns=self.switch)

    def add_host(self, name: str) -> Host:
        n = len(self.hosts) + 1
        host = Host(name, f"is21-{self.tag}-{name}", f"{SUBNET}.{n}", f"p{n}")
        ip("netns", "add", host.netns)
        # Both ends made in the switch's namespace, one then moved into the host's.
        ip("link", "add", host.port, "type", "veth", "peer", "name", "eth0", netns=self.switch)
        ip("link", "set", "eth0", "netns", host.netns, netns=self.switch)
        ip("link", "set", host.port, "master", "br0", "up", netns=self.switch)
        ip("addr", "add", f"{host.ip}/24", "dev", "eth0", netns=host.netns)
        ip("link", "set", "eth0", "up", netns=host.netns)
        ip("link", "set", "lo", "up", netns=host.netns)
        self.hosts.append(host)
        return host

    def cut(self, host: Host) -> None:
        """Its link down at the switch: its packets go nowhere, as with a pulled cable."""
        ip("link", "set", host.port, "down", netns=self.switch)

    def heal(self, host: Host) -> None:
        ip("link", "set", host.port, "up", netns=self.switch)

    def stop(self) -> None:
        for netns in [h.netns for h in self.hosts] + [self.switch]:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        self.hosts.clear()


ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"worker": "w-secret", "producer": "p-secret", "ops": "o-secret"}


class SiteFleet:
    """Redis on a host of its own under the shipped ACL users (ops/redis/users.acl, the
    passwords set here), ``is21 worker`` processes on board hosts. ``admin`` reaches Redis
    over a unix socket, from outside every namespace: the harness's view, not a host's."""

    def __init__(self, site: Site, tmp: Path, model_dir: Path) -> None:
        self.site, self.tmp, self.model_dir = site, tmp, model_dir
        self.redis_host = site.add_host("redis")
        acl = (ROOT / "ops" / "redis" / "users.acl").read_text()
        for user, password in PASSWORDS.items():
            acl = acl.replace(f">CHANGE-ME-{user}", f">{password}")
        (tmp / "users.acl").write_text(acl + "user admin on >admin ~* &* +@all\n")
        self.socket = tmp / "redis.sock"
        self.redis = self.redis_host.popen(
            ["redis-server", "--bind", self.redis_host.ip, "--port", "6379",
             "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--aclfile", str(tmp / "users.acl"), "--save", "", "--appendonly", "no",
             "--dir", str(tmp), "--logfile", str(tmp / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.admin_url = f"unix://admin:admin@{self.socket}"
        self.admin = self._admin(deadline=time.monotonic() + 10)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def _admin(self, deadline: float) -> redis.Redis:
        while True:
            try:
                client = connect(self.admin_url, timeout=2)
                client.ping()
                return client
            except redis.RedisError as exc:
                if time.monotonic() > deadline:
                    raise SiteUnavailable(f"redis did not answer: {self.logs()}") from exc
                time.sleep(0.05)

    def url(self, user: str, port: int = 6379) -> str:
        return f"redis://is21-{user}:{PASSWORDS[user]}@{self.redis_host.ip}:{port}/0"

    def start_worker(self, board: Host, name: str, url: str | None = None, **env: str) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("IS21_")}
        environ |= {
            "IS21_REDIS_URL": url or self.url("worker"),
            "IS21_MODEL_DIR": str(self.model_dir),
            "IS21_INTRA_OP_THREADS": "1",
            **env,
        }
        log = (self.tmp / f"{name}.log").open("ab")
        self.workers[name] = board.popen(
            [sys.executable, "-m", "is21.ops", "worker", "--name", name],
            env=environ, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop_workers(self) -> None:
        for proc in self.workers.values():
            _stop(proc)
        self.workers.clear()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        self.stop_workers()
        _stop(self.redis)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
