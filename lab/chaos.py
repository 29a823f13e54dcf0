"""``is21 chaos``: the fleet across hosts, with a fault injected every ~20 s, and a ledger
at the end that accounts for every frame.

The site (lab/hosts.py): a Redis host running a Sentinel deployment (master, replica,
three sentinels), three boards with one worker each under a supervisor that restarts
what exits (as systemd's ``Restart=always``), and the camera server (lab/chaos_camera.py)
on a host of its own. The faults, chosen at random: SIGKILL a worker, SIGSTOP it for a
few seconds, cut a board off and heal it, restart a worker, fail the Redis master over.
At the end: per camera, submitted = fallback + processed + failed + superseded + lost,
every lost frame explained by a failover the run injected, and the longest time any
camera went unserved, with the fault that caused it. Per minute: results by worker and
the fewest workers alive, so a worker that does not come back after a fault shows; at
the end, whether every worker is alive again and each Redis server's role.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from is21.lab.chaos_report import FAULTS, Fault, Run
from is21.lab.hosts import ROOT, Host, Site, SiteUnavailable
from is21.lab.sentinel_cluster import SentinelCluster
from is21.schemas import keys

RESTART_S = 1.0  # systemd's RestartSec for a worker
# The Redis unit's RestartSec (ops/redis/README.md): the killed master comes back well
# after the sentinels moved on, not while the new master is seconds old.
REDIS_RESTART_S = 10.0


@dataclass
class Board:
    host: Host
    name: str
    proc: subprocess.Popen[bytes] | None = None


class Chaos:
    def __init__(self, site: Site, tmp: Path, model_dir: Path, images: Path, seed: int) -> None:
        self.site, self.tmp, self.model_dir, self.images = site, tmp, model_dir, images
        self.random = random.Random(seed)
        self.cluster = SentinelCluster(host=site.add_host("redis")).start()
        self.boards = [Board(site.add_host(f"board{i}"), f"board{i}.npu0") for i in (1, 2, 3)]
        self.camera_host = site.add_host("is22")
        self.run = Run()
        self._kinds: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._timers: list[threading.Timer] = []
        self.camera: subprocess.Popen[bytes] | None = None

    def later(self, seconds: float, action: Any, *args: Any) -> None:
        """``action`` after ``seconds``, unless the run is closed by then."""
        timer = threading.Timer(seconds, action, args=args)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "IS21_REDIS_URL": self.cluster.url,
            "IS21_MODEL_DIR": str(self.model_dir),
            "IS21_INTRA_OP_THREADS": "1",
            "IS21_HEARTBEAT_INTERVAL": "0.5",
        }

    def start_worker(self, board: Board) -> None:
        log = (self.tmp / f"{board.name}.log").open("ab")
        board.proc = board.host.popen(
            [sys.executable, "-m", "is21.ops", "worker", "--name", board.name],
            env=self.env(), cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def _supervise(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                for board in self.boards:
                    if board.proc is not None and board.proc.poll() is not None:
                        board.proc = None
                        self.later(RESTART_S, self._restart, board)

    def _restart(self, board: Board) -> None:
        with self._lock:
            if board.proc is None and not self._stop.is_set():
                self.start_worker(board)

    def _watch(self) -> None:
        while not self._stop.wait(2):
            with contextlib.suppress(redis.RedisError):  # the master failing over: no sample
                self.run.live.append((time.time(), len(self.live_workers())))

    def live_workers(self) -> list[str]:
        """From the master the sentinels name before and after the reading: asking them
        takes seconds during a failover, and by then the port named may be the killed
        master's, restarted with what its disk held."""
        port = self.cluster.master_port()
        master = self.cluster.data(port)
        seconds, micros = master.time()
        names: Any = master.zrangebyscore(keys.WORKERS, seconds * 1000 + micros // 1000, "+inf")
        if self.cluster.master_port() != port:
            raise redis.ConnectionError("the master moved while it was read")
        return sorted(n.decode() for n in names)

    def promotion(self, old: int) -> float | None:
        """Seconds until most sentinels name a master other than ``old``, or None."""
        return self.until(lambda: self.cluster.master_port() != old)

    def all_sentinels_name_another(self, old: int) -> bool:
        votes = self.cluster.named_masters()
        return sum(votes.values()) == len(self.cluster.sentinel_ports) and old not in votes

    def until(self, condition: Any, timeout: float = 30) -> float | None:
        """Seconds until ``condition()`` holds (Redis errors count as not yet), or None."""
        started = time.monotonic()
        while time.monotonic() - started < timeout and not self._stop.is_set():
            with contextlib.suppress(redis.RedisError):
                if condition():
                    return time.monotonic() - started
            time.sleep(0.05)
        return None

    def _restart_redis(self, port: int) -> None:
        if not self._stop.is_set():
            self.cluster.restart(port)

    def master(self) -> Any:
        return self.cluster.data(self.cluster.master_port())

    def replica_in_sync(self) -> bool:
        try:
            info = self.master().info("replication")
        except Exception:
            return False
        return bool(info.get("slave0", {}).get("state") == "online")

    def next_kind(self) -> str:
        """Every kind once per five faults, in a random order (a failover only while a
        replica is in sync: with none, it would blind the site instead of testing it)."""
        if not self._kinds:
            self._kinds = self.random.sample(FAULTS, k=len(FAULTS))
        for i, kind in enumerate(self._kinds):
            if kind != "failover" or self.replica_in_sync():
                return self._kinds.pop(i)
        return "kill"

    def inject(self) -> Fault:
        kind = self.next_kind()
        board = self.random.choice(self.boards)
        fault = Fault(kind, board.name, time.time())
        if kind == "failover":
            port = self.cluster.master_port()
            fault.target = f"redis master :{port}"
            self.cluster.kill(port)
            fault.promoted_s = self.promotion(port)
            # Back as systemd would bring it (REDIS_RESTART_S after the kill), and never
            # before every sentinel names the new master: a sentinel still naming it would
            # send clients to it, a master again with what its disk held. Back sooner, it
            # loads its last RDB and is a replica the sentinels may promote before it has
            # synced: one sentinel misjudging the seconds-old master down was enough to
            # bring a minutes-old dataset back (docs/reliability.md, "Chaos").
            self.until(lambda: self.all_sentinels_name_another(port))
            back_in = fault.start + REDIS_RESTART_S - time.time()
            self.later(max(0.0, back_in), self._restart_redis, port)
        elif kind == "cut":
            self.site.cut(board.host)
            self._stop.wait(5)
            self.site.heal(board.host)
        elif kind == "stop" and board.proc is not None:
            board.proc.send_signal(signal.SIGSTOP)
            self._stop.wait(4)
            board.proc.send_signal(signal.SIGCONT)
        elif kind in ("kill", "restart") and board.proc is not None:
            board.proc.send_signal(signal.SIGKILL if kind == "kill" else signal.SIGTERM)
        fault.end = time.time()
        self.run.faults.append(fault)
        return fault

    def drive(self, seconds: float, interval: float, log: Any) -> Run:
        for board in self.boards:
            self.start_worker(board)
        self._supervisor.start()
        deadline = time.monotonic() + 60
        while self.master().zcard(keys.WORKERS) < len(self.boards):
            if time.monotonic() > deadline:
                raise SiteUnavailable("the workers did not start")
            time.sleep(0.2)
        self._watcher.start()
        report = self.tmp / "ledger.json"
        self.camera = camera = self.camera_host.popen(
            [sys.executable, "-m", "is21.lab.chaos_camera", str(self.images), str(report)],
            env=self.env(), cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=(self.tmp / "camera.log").open("ab"),
        )  # fmt: skip
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            self._stop.wait(interval * self.random.uniform(0.75, 1.25))
            self.camera_alive()
            if time.monotonic() - started < seconds:
                fault = self.inject()
                promoted = "" if fault.promoted_s is None else f" ({fault.promoted_s:.1f} s)"
                log(f"{time.strftime('%H:%M:%S')} {fault.kind} {fault.target}{promoted}")
        time.sleep(5)  # the last fault's consequences served
        self.camera_alive()
        camera.send_signal(signal.SIGTERM)
        camera.wait(timeout=120)
        if camera.returncode != 0 or not report.exists():
            raise SiteUnavailable(f"the camera server failed:\n{self.camera_log()}")
        result = json.loads(report.read_text())
        self.run.accounts, self.run.minutes = result["accounts"], result["minutes"]
        self.run.timeline = result["timeline"]
        self.run.explain({cam: tuple(gap) for cam, gap in result["gaps"].items()})
        self.settled()
        return self.run

    def camera_alive(self) -> None:
        """A camera server that died mid-run has no ledger to give: say so, and why."""
        if self.camera is not None and self.camera.poll() is not None:
            raise SiteUnavailable(
                f"the camera server exited {self.camera.returncode}:\n{self.camera_log()}"
            )

    def camera_log(self) -> str:
        return (self.tmp / "camera.log").read_text(errors="replace")[-4000:]

    def settled(self, timeout: float = 30) -> None:
        """Every worker alive again and the replica back in sync, or what is missing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.run.live_at_end = self.live_workers()
            except redis.RedisError:
                self.run.live_at_end = []
            if len(self.run.live_at_end) == len(self.boards) and self.replica_in_sync():
                break
            time.sleep(0.5)
        self.run.replication = self.cluster.replication()
        self.run.switches = self.cluster.switches()

    def close(self) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.cancel()
            timer.join(timeout=15)  # one already acting finishes before what it acts on stops
        if self.camera is not None and self.camera.poll() is None:
            self.camera.kill()
            self.camera.wait()
        with self._lock:
            for board in self.boards:
                if board.proc is not None and board.proc.poll() is None:
                    board.proc.send_signal(signal.SIGCONT)
                    board.proc.terminate()
                    board.proc.wait(timeout=20)
        self.cluster.stop()


def run_chaos(
    images: Path, model_dir: Path, minutes: float, seed: int, interval: float = 20.0,
    log: Any = print,
) -> Run:  # fmt: skip
    with Site() as site, tempfile.TemporaryDirectory(prefix="is21-chaos-") as tmp:
        chaos = Chaos(site, Path(tmp), model_dir, images, seed)
        try:
            return chaos.drive(minutes * 60, interval, log)
        finally:
            chaos.close()
