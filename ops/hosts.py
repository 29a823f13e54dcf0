"""Hosts on one machine: a network namespace each, joined by a bridge, to test what
crosses a network (a worker board cut off, a camera server cut off) without one.

    with Site() as site:
        redis_host = site.add_host("redis")        # 10.21.0.1
        board = site.add_host("board1")            # 10.21.0.2
        board.popen(["redis-cli", "-h", redis_host.ip, "ping"])
        site.cut(board)                            # its link down: a cable pulled
        site.heal(board)

The bridge lives in a namespace of its own too, so nothing is added to the machine's own
network and all traffic stays between the namespaces the site made; ``close`` removes
them. Needs root and iproute2 (``ip netns``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from types import TracebackType
from typing import Any

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


class Site:
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

    def close(self) -> None:
        for netns in [h.netns for h in self.hosts] + [self.switch]:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        self.hosts.clear()

    def __enter__(self) -> Site:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
