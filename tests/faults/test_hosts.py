"""Past one machine: worker boards in network namespaces of their own, one Redis in
another, under the shipped ACL users (ops/hosts.py). A board is cut off mid-flood."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from is21.ops.hosts import Host, Site
from is21.producer import FrameProducer
from is21.producer.ledger import Ledger
from is21.protocol.connection import connect
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, ROOT, fleet_env, require_shared
from tests.helpers import results_of, wait_settled, wait_until
from tests.samples import EXPECTED_EVENTS, photo

PASSWORDS = {"worker": "w-secret", "producer": "p-secret", "ops": "o-secret"}


class Fleet2:
    """Redis on one host, a worker on each board host; the test reads over a unix socket."""

    def __init__(self, site: Site, tmp: Path) -> None:
        self.site, self.tmp = site, tmp
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
        self.admin = wait_until(self._admin, timeout=10, what="redis in its namespace")
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def _admin(self) -> redis.Redis | None:
        try:
            client = connect(f"unix://admin:admin@{self.socket}", timeout=2)
            client.ping()
            return client
        except redis.RedisError:
            return None

    def url(self, user: str) -> str:
        return f"redis://is21-{user}:{PASSWORDS[user]}@{self.redis_host.ip}:6379/0"

    def start_worker(self, board: Host, name: str) -> None:
        env = fleet_env(self.url("worker"), IS21_HEARTBEAT_INTERVAL="0.5")
        log = (self.tmp / f"{name}.log").open("ab")
        self.workers[name] = board.popen(
            [sys.executable, "-m", "is21.ops", "worker", "--name", name],
            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        for proc in [*self.workers.values(), self.redis]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def fleet2(tmp_path: Path) -> Iterator[Fleet2]:
    require_shared()
    with Site() as site:
        fleet = Fleet2(site, tmp_path)
        try:
            yield fleet
        finally:
            fleet.stop()


def test_a_board_cut_off_mid_flood(fleet2: Fleet2) -> None:
    site, admin = fleet2.site, fleet2.admin
    boards = [site.add_host("board1"), site.add_host("board2")]
    for i, board in enumerate(boards, 1):
        fleet2.start_worker(board, f"b{i}")
    wait_until(lambda: admin.zcard(keys.WORKERS) == 2, timeout=60, what="both boards' workers")
    settings = Settings(redis_url=f"unix://admin:admin@{fleet2.socket}", model_dir=MODEL_DIR)
    ledger = Ledger()
    producer = FrameProducer(admin, settings, ledger)
    cams = [f"cam{i:02d}" for i in range(30)]
    frames = [photo(n) for n in sorted(EXPECTED_EVENTS)]
    stop = threading.Event()

    def camera_server() -> None:  # 30 cameras at ~3 fps: more than two workers serve
        i = 0
        while not stop.wait(0.3):
            for cam in cams:
                producer.submit(cam, frames[(i + len(cam)) % len(frames)])
            i += 1

    flood = threading.Thread(target=camera_server)
    flood.start()
    try:
        time.sleep(5)
        cut_ms = admin.time()[0] * 1000
        site.cut(boards[0])
        cut_at = time.monotonic()

        def served_by_b2_after_cut() -> bool:
            return all(
                any(r.worker == "b2" and int(r.frame_id.split("-")[0]) > cut_ms
                    for r in results_of(admin, cam)[-5:])
                for cam in cams
            )  # fmt: skip

        wait_until(served_by_b2_after_cut, timeout=30, what="every camera served by board2")
        taken_over_s = time.monotonic() - cut_at
        time.sleep(max(0.0, 12 - taken_over_s))  # past board1's heartbeat TTL (10 s)
        heal_ms = admin.time()[0] * 1000
        site.heal(boards[0])
        wait_until(
            lambda: any(
                r.worker == "b1" and int(r.frame_id.split("-")[0]) > heal_ms
                for cam in cams
                for r in results_of(admin, cam)[-3:]
            ),
            timeout=30,
            what="board1 serving again",
        )
    finally:
        stop.set()
        flood.join()
    wait_settled(admin, cams, timeout=60)
    print(f"every camera served by board2 {taken_over_s:.1f} s after board1 was cut")
    assert taken_over_s < 5 + 2, fleet2.logs()  # one lease TTL, and a beat
    # No frame has two results; every frame submitted is accounted for.
    for cam in cams:
        ids = [r.frame_id for r in results_of(admin, cam)]
        assert len(ids) == len(set(ids)), cam
    accounts = ledger.reconcile(admin)
    assert all(a.balanced and not a.lost for a in accounts.values()), accounts
    stale = sum(int(admin.hget(keys.camera(c), "stale_results") or 0) for c in cams)
    print(f"late publishes dropped as stale: {stale}")
    assert stale >= 1  # board1 was mid-frame when cut: what it sent after was too late
    rq = Path(sys.executable).parent / "rq"
    info = subprocess.run(
        [str(rq), "info", "-W", "-u", f"unix://admin:admin@{fleet2.socket}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "b1" in info.stdout and "b2" in info.stdout, info.stdout
    assert all(p.poll() is None for p in fleet2.workers.values()), fleet2.logs()
