"""A real Sentinel deployment on loopback: a master, a replica, three sentinels, each a
redis-server process of its own, on ports of its own, in a folder of its own (tests, benches)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from is21.lab.hosts import PASSWORDS, ROOT, Host
from is21.lab.tcp_proxy import TcpProxy

MASTER = "is21"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# With ``acl=True`` the data servers run the shipped users (ops/redis/users.acl) and the
# two Sentinel needs (Redis's docs, "Redis Sentinel and ACL"): replication and monitoring.
CLUSTER_USERS = (
    "user is21-replica on >r-secret +psync +replconf +ping\n"
    "user is21-sentinel on >s-secret allchannels +multi +slaveof +ping +exec +subscribe "
    "+config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n"
    "user admin on >admin ~* &* +@all\n"
)


class SentinelCluster:
    def __init__(
        self,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 4000,
        acl: bool = False,
        tls: tuple[Path, Path, Path] | None = None,
        host: Host | None = None,
    ) -> None:
        """``tls``: (CA, certificate, key) files: every server and sentinel speaks only TLS.
        ``host``: run every process in that host's network namespace (lab/hosts.py), on its
        address; the harness then reaches each over a unix socket."""
        self.acl, self.tls, self.host = acl, tls, host
        self.bind = host.ip if host else "127.0.0.1"
        self.args: dict[int, list[str]] = {}
        self.dir = Path(tempfile.mkdtemp(prefix="is21-sentinel-"))
        self.down_after_ms, self.failover_timeout_ms = down_after_ms, failover_timeout_ms
        self.data_ports = [free_port(), free_port()]
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.replication_link: TcpProxy | None = None  # the replica's way to the master

    @property
    def url(self) -> str:
        """For the tests' own use: the admin user under ``acl``."""
        return self.url_for("admin", "admin") if self.acl else self.url_for(None, None)

    def url_for(self, user: str | None, password: str | None) -> str:
        hosts = ",".join(f"{self.bind}:{p}" for p in self.sentinel_ports)
        auth = f"{user}:{password}@" if user else ""
        if self.tls:
            return f"rediss+sentinel://{auth}{hosts}/{MASTER}?ssl_ca_certs={self.tls[0]}"
        return f"redis+sentinel://{auth}{hosts}/{MASTER}"

    def _client(self, port: int, **kwargs: Any) -> redis.Redis:
        if self.host:
            return redis.Redis(unix_socket_path=str(self.sock(port)), socket_timeout=1, **kwargs)
        if self.tls:
            kwargs |= {"ssl": True, "ssl_ca_certs": str(self.tls[0])}
        return redis.Redis(port=port, socket_timeout=1, **kwargs)

    def sock(self, port: int) -> Path:
        return self.dir / f"{port}.sock"

    def _tls_args(self) -> list[str]:
        if not self.tls:
            return []
        ca, cert, key = self.tls
        return [
            *("--tls-cert-file", str(cert), "--tls-key-file", str(key)),
            *("--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"),
            *("--tls-replication", "yes"),
        ]

    def data(self, port: int) -> redis.Redis:
        user = "admin" if self.acl else None
        return self._client(port, username=user, password=user)

    def _spawn(self, port: int, *args: str) -> None:
        self.args[port] = list(args)
        log = self.dir / f"{port}.log"
        argv = [shutil.which("redis-server") or "redis-server", *args, "--logfile", str(log)]
        argv += ["--unixsocket", str(self.sock(port)), "--unixsocketperm", "700"]
        options: dict[str, Any] = {
            "stdin": subprocess.DEVNULL,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        self.procs[port] = (
            self.host.popen(argv, **options) if self.host else subprocess.Popen(argv, **options)
        )

    def restart(self, port: int) -> None:
        """A killed process started again as it was (a killed master comes back and the
        sentinels make it a replica of the new one)."""
        self._spawn(port, *self.args[port])
        self.wait_answers(port)

    def start_data(self, port: int, replica_of: int | None = None) -> None:
        folder = self.dir / f"data-{port}"
        folder.mkdir(exist_ok=True)
        listen = ["--port", "0", "--tls-port", str(port)] if self.tls else ["--port", str(port)]
        args = [*listen, "--bind", self.bind, "--dir", str(folder), *self._tls_args()]
        if self.host:  # a private network of the site's own; the ACL, if any, still holds
            args += ["--protected-mode", "no"]
        args += ["--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"]
        if replica_of is not None:
            args += ["--replicaof", self.bind, str(replica_of)]
        if self.acl:
            acl = (ROOT / "ops" / "redis" / "users.acl").read_text()
            for user, password in PASSWORDS.items():
                acl = acl.replace(f">CHANGE-ME-{user}", f">{password}")
            (self.dir / "users.acl").write_text(acl + CLUSTER_USERS)
            args += ["--aclfile", str(self.dir / "users.acl")]
            args += ["--masteruser", "is21-replica", "--masterauth", "r-secret"]
        self._spawn(port, *args)
        self.wait_answers(port)

    def start(self) -> SentinelCluster:
        master, replica = self.data_ports
        self.start_data(master)
        if self.host:  # the harness's proxy cannot reach into the namespace
            self.start_data(replica, replica_of=master)
        else:
            self.replication_link = TcpProxy(("127.0.0.1", master)).start()
            self.start_data(replica, replica_of=self.replication_link.port)
        self.wait_in_sync(master)
        for port in self.sentinel_ports:
            conf = self.dir / f"sentinel-{port}.conf"
            listen = f"port 0\ntls-port {port}\n" if self.tls else f"port {port}\n"
            pairs = self._tls_args()
            tls = "".join(f"{a[2:]} {b}\n" for a, b in zip(pairs[::2], pairs[1::2], strict=True))
            conf.write_text(
                f"{listen}{tls}bind {self.bind}\ndir {self.dir}\n"
                + ("protected-mode no\n" if self.host else "")
                + f"sentinel monitor {MASTER} {self.bind} {master} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}\n"
                f"sentinel failover-timeout {MASTER} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
                + (
                    f"sentinel auth-user {MASTER} is21-sentinel\n"
                    f"sentinel auth-pass {MASTER} s-secret\n"
                    if self.acl
                    else ""
                )
            )
            self._spawn(port, str(conf), "--sentinel")
            self.wait_answers(port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # every sentinel knows the replica and the others
            infos: list[Any] = [
                self.sentinel(p).sentinel_master(MASTER) for p in self.sentinel_ports
            ]
            if all(i["num-slaves"] >= 1 and i["num-other-sentinels"] >= 2 for i in infos):
                return self
            time.sleep(0.1)
        raise RuntimeError(f"the sentinels did not see each other: {infos}")

    def wait_in_sync(self, master: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.data(master).info("replication")
            if info.get("slave0", {}).get("state") == "online":
                return
            time.sleep(0.05)
        raise RuntimeError(f"the replica did not sync: {self.logs()}")

    def sentinel(self, port: int) -> redis.Redis:
        return self._client(port, decode_responses=True)

    def wait_answers(self, port: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self._client(port).ping()
                return
            except (redis.AuthenticationError, redis.ResponseError):
                return  # it answered; it wants credentials (acl)
            except redis.RedisError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on {port} did not answer: {self.logs()}")

    def master_port(self) -> int:
        """The master a majority of the sentinels name. After a failover the leader names
        the new master at once and the others learn it from its hello messages up to two
        seconds later; meanwhile they still name the old one."""
        votes = self.named_masters()
        named = [port for port, n in votes.items() if n > len(self.sentinel_ports) // 2]
        if not named:
            raise redis.ConnectionError(f"no master named by a majority of sentinels: {votes}")
        return named[0]

    def named_masters(self) -> Counter[int]:
        """How many sentinels name each port the master (those that answer)."""
        votes: Counter[int] = Counter()
        for port in self.sentinel_ports:
            with contextlib.suppress(redis.RedisError):
                address: Any = self.sentinel(port).sentinel_get_master_addr_by_name(MASTER)
                votes[int(address[1])] += 1
        return votes

    def replication(self) -> str:
        """Each data server's role as it reports it, e.g. ':p1 master, 1 replica online;
        :p2 replica of :p1, link up'."""
        parts = []
        for port in self.data_ports:
            try:
                info: Any = self.data(port).info("replication")
            except redis.RedisError as exc:
                parts.append(f":{port} down ({exc})")
                continue
            if info["role"] == "master":
                online = sum(
                    1 for k, v in info.items() if k.startswith("slave") and v["state"] == "online"
                )
                parts.append(f":{port} master, {online} replica online")
            else:
                parts.append(
                    f":{port} replica of :{info['master_port']}, link {info['master_link_status']}"
                )
        return "; ".join(parts)

    def switches(self) -> list[str]:
        """The master changes one sentinel logged (``+switch-master``), oldest first:
        asked for by a fault or not."""
        log = self.dir / f"{self.sentinel_ports[0]}.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return [line for line in lines if "+switch-master" in line]

    def kill(self, port: int) -> None:
        self.procs[port].send_signal(signal.SIGKILL)
        self.procs[port].wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
            for p in sorted(self.dir.glob("*.log"))
        )

    def stop(self) -> None:
        if self.replication_link is not None:
            self.replication_link.stop()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
