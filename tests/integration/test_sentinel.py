"""The fleet on a Sentinel deployment (real redis-server processes in sentinel mode)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import trustme

from is21.lab.hosts import PASSWORDS
from is21.lab.sentinel_cluster import SentinelCluster
from is21.producer import FrameProducer, WaitTimeout
from is21.producer.ledger import Account, Ledger
from is21.protocol.connection import connect
from is21.protocol.functions import load_library
from is21.protocol.sentinel import parse
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, Fleet, Health, fleet_env, require_shared
from tests.helpers import JPEG, play_a_worker, wait_until
from tests.samples import photo

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_the_url_names_sentinels_master_user_and_tls_options() -> None:
    target = parse(
        "rediss+sentinel://is21-worker:s%40cret@10.0.0.1:26379,[::1]:26380/fleet/2"
        "?sentinel_password=x&ssl_ca_certs=/etc/ca.pem"
    )
    assert target.sentinels == [("10.0.0.1", 26379), ("::1", 26380)]
    assert (target.master, target.db, target.username, target.password) == (
        "fleet", 2, "is21-worker", "s@cret",
    )  # fmt: skip
    assert target.ssl_kwargs() == {"ssl": True, "ssl_ca_certs": "/etc/ca.pem"}
    assert target.sentinel_kwargs(5)["password"] == "x"
    for bad in ("redis+sentinel://h:1", "redis+sentinel://h/m", "redis+sentinel://h:1/m?x=1"):
        with pytest.raises(ValueError):
            parse(bad)


def test_connect_finds_the_master_and_again_after_a_failover(cluster: SentinelCluster) -> None:
    client = connect(cluster.url, timeout=2)
    load_library(client)
    assert client.info("replication")["role"] == "master"
    client.set("before", "1")
    assert client.wait(1, 2000) == 1  # the replica has the library: this test is not the loss
    first = cluster.master_port()
    cluster.kill(first)
    # The client reconnects by itself once the sentinels promote the replica.
    deadline = time.monotonic() + 20
    while True:
        try:
            client.set("after", "1")
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, cluster.logs()
            time.sleep(0.1)
    assert cluster.master_port() != first
    assert client.info("replication")["role"] == "master"
    assert client.get("before") == b"1"
    assert client.function_list(library="is21")  # FUNCTION LOAD replicated with the data
    assert client.fcall_ro("is21_alive", 0) is not None


def test_the_fleet_resumes_on_the_promoted_replica(
    cluster: SentinelCluster, tmp_path: Path, health_factory: Callable[..., Health]
) -> None:
    """Two real workers and the producer on the sentinel URL; the master is SIGKILLed
    with frames flowing. Results resume on the promoted replica by themselves."""
    require_shared()
    url = cluster.url
    client = connect(url, timeout=2)
    load_library(client)
    fleet = Fleet(url, fleet_env(url, IS21_HEARTBEAT_INTERVAL="0.5"), [], tmp_path)
    fleet.start("s0")
    fleet.start("s1")
    fleet.wait_alive(client, 2)
    ledger = Ledger()
    producer = FrameProducer(client, Settings(redis_url=url, model_dir=MODEL_DIR), ledger)
    cams = [f"cam{i}" for i in range(4)]
    stop = threading.Event()

    def camera_server() -> None:  # three more cameras at ~7 fps each, through it all
        while not stop.wait(0.05):
            for cam in cams[1:]:
                producer.submit(cam, photo(JPEG))

    flood = threading.Thread(target=camera_server)
    try:
        for cam in cams:
            assert producer.wait(producer.submit(cam, photo(JPEG)), timeout=20).status == "ok"
        health = health_factory(IS21_REDIS_URL=url)  # is21 health on the sentinel URL too
        assert health.json("/healthz")[0] == 200
        flood.start()
        time.sleep(1)
        killed_at = time.monotonic()
        cluster.kill(cluster.master_port())
        fallbacks = 0
        while True:  # a camera server at ~5 fps meanwhile: fall back, never hang
            assert time.monotonic() - killed_at < 30, cluster.logs() + fleet.logs()
            ticket = producer.submit("cam0", photo(JPEG))
            if ticket.fallback is not None:
                fallbacks += 1
                time.sleep(0.2)
                continue
            with contextlib.suppress(WaitTimeout):
                if producer.wait(ticket, timeout=5).status == "ok":
                    break
        resumed_s = time.monotonic() - killed_at
        print(f"results resumed {resumed_s:.1f} s after the master was killed")
        assert resumed_s < 15 and fallbacks > 0
        stop.set()
        flood.join()
        for cam in cams:  # every camera, on the new master (a pooled connection to the
            # old one may cost a last fallback before it reconnects)
            assert served_again(producer, cam, timeout=10)
        # The ledger accounts for every frame; what the old master acknowledged and never
        # replicated is named, and can only be from the moment it died.
        accounts = ledger.reconcile(client)
        for cam, account in accounts.items():
            print(cam, account)
            assert account.balanced, (cam, account)
        lost = {fid for a in accounts.values() for fid in a.lost}
        kill_ms = time.time() * 1000 - (time.monotonic() - killed_at) * 1000
        assert all(abs(int(fid.split("-")[0]) - kill_ms) < 1000 for fid in lost), lost
        assert all(p.poll() is None for p in fleet.procs), fleet.logs()
        wait_until(lambda: health.json("/healthz")[0] == 200, what="/healthz on the new master")
        # The operator's rq info, on the same URL: both workers, on the new master.
        rq = Path(sys.executable).parent / "rq"
        info = subprocess.run(
            [str(rq), "info", "-c", "is21.ops.rq_settings", "-W"],
            env={**fleet.env, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert info.returncode == 0 and "s0" in info.stdout and "s1" in info.stdout, info
    finally:
        stop.set()
        if flood.is_alive():
            flood.join()
        fleet.stop()


def test_the_ledger_names_the_frames_a_failover_lost(cluster: SentinelCluster) -> None:
    """Asynchronous replication, made visible: the replica's link to the master is cut
    while the master acknowledges four frames, then the master dies and the replica is
    promoted without them. The producer's ledger names exactly those four; the frames
    replicated before are still there."""
    client = connect(cluster.url, timeout=2)
    play_a_worker(client)  # a live worker, so the producer stores frames
    ledger = Ledger()
    producer = FrameProducer(client, Settings(redis_url=cluster.url), ledger)
    kept = [producer.submit("door", photo(JPEG)) for _ in range(3)]
    assert client.wait(1, 1000) == 1
    master = cluster.master_port()
    (replica,) = [p for p in cluster.data_ports if p != master]
    assert cluster.replication_link is not None
    cluster.replication_link.cut()
    wait_until(
        lambda: client.info("replication")["connected_slaves"] == 0,
        what="the master losing its replica",
    )
    unreplicated = [producer.submit("door", photo(JPEG)) for _ in range(4)]
    assert all(t.fallback is None for t in kept + unreplicated)
    cluster.kill(master)
    wait_until(lambda: cluster.master_port() == replica, timeout=30, what="the failover")
    accounts = wait_until(lambda: _reconciled(ledger, client), timeout=10, what="the new master")
    door = accounts["door"]
    assert door.lost == [t.frame_id for t in unreplicated]
    assert door.superseded == 3 and door.balanced, door


def _reconciled(ledger: Ledger, client: redis.Redis) -> dict[str, Account] | None:
    try:
        return ledger.reconcile(client)
    except redis.ConnectionError:
        return None


def test_min_replicas_to_write_refuses_frames_while_no_replica_follows(
    cluster: SentinelCluster, tmp_path: Path
) -> None:
    """The recommended bound on a failover's loss (ops/redis/README.md): with the replica
    cut off, the master refuses writes after a second; producers fall back, the worker
    waits without failing, and both go on by themselves when the replica is back."""
    require_shared()
    url = cluster.url
    client = connect(url, timeout=2)
    load_library(client)
    client.config_set("min-replicas-to-write", "1")
    client.config_set("min-replicas-max-lag", "1")
    fleet = Fleet(url, fleet_env(url, IS21_HEARTBEAT_INTERVAL="0.5"), [], tmp_path)
    fleet.start("m0")
    fleet.wait_alive(client, 1)
    producer = FrameProducer(client, Settings(redis_url=url, model_dir=MODEL_DIR))
    try:
        assert producer.wait(producer.submit("yard", photo(JPEG)), timeout=20).status == "ok"
        assert cluster.replication_link is not None
        cluster.replication_link.cut()
        refused = wait_until(
            lambda: (t := producer.submit("yard", photo(JPEG))).fallback is not None and t,
            timeout=10,
            what="the master refusing frames",
        )
        assert refused.fallback is not None and "NOREPLICAS" in (refused.fallback.error or "")
        cluster.replication_link.heal()
        assert served_again(producer, "yard", timeout=15)
        assert fleet.procs[0].poll() is None, fleet.logs()
    finally:
        fleet.stop()


def test_sentinel_under_the_shipped_acl_users(tmp_path: Path) -> None:
    """The master and replica run ops/redis/users.acl (with the replication and sentinel
    users Sentinel needs); the worker and the producer connect as their own users through
    the sentinels, and a failover changes nothing for them."""
    require_shared()
    cluster = SentinelCluster(acl=True).start()
    try:
        worker_url = cluster.url_for("is21-worker", PASSWORDS["worker"])
        fleet = Fleet(
            worker_url, fleet_env(worker_url, IS21_HEARTBEAT_INTERVAL="0.5"), [], tmp_path
        )
        fleet.start("acl0")
        admin = connect(cluster.url, timeout=2)
        fleet.wait_alive(admin, 1)
        producer_url = cluster.url_for("is21-producer", PASSWORDS["producer"])
        producer = FrameProducer.from_url(producer_url, Settings(redis_url=producer_url))
        assert producer.wait(producer.submit("acl-cam", photo(JPEG)), timeout=20).status == "ok"
        cluster.kill(cluster.master_port())
        assert served_again(producer, "acl-cam", timeout=20)
        assert not admin.acl_log(), admin.acl_log()  # nothing the fleet did was denied
        fleet.stop()
    finally:
        cluster.stop()


def test_sentinel_over_tls(tmp_path: Path) -> None:
    """rediss+sentinel://: the sentinels, the master and the replication speak only TLS;
    the fleet trusts the CA named in the URL, across a failover."""
    require_shared()
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    files = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    ca.cert_pem.write_to_path(str(files[0]))
    cert.cert_chain_pems[0].write_to_path(str(files[1]))
    cert.private_key_pem.write_to_path(str(files[2]))
    cluster = SentinelCluster(tls=files).start()
    try:
        url = cluster.url
        assert url.startswith("rediss+sentinel://")
        fleet = Fleet(url, fleet_env(url, IS21_HEARTBEAT_INTERVAL="0.5"), [], tmp_path)
        fleet.start("tls0")
        client = connect(url, timeout=2)
        fleet.wait_alive(client, 1)
        producer = FrameProducer(client, Settings(redis_url=url))
        assert producer.wait(producer.submit("tls-cam", photo(JPEG)), timeout=20).status == "ok"
        cluster.kill(cluster.master_port())
        assert served_again(producer, "tls-cam", timeout=20)
        fleet.stop()
        untrusting = url.split("?")[0]  # no CA: no sentinel is trusted, no master found
        refused_at = time.monotonic()
        with pytest.raises(redis.ConnectionError, match="No master found"):
            connect(untrusting, timeout=2).ping()
        assert time.monotonic() - refused_at < 5  # each sentinel asked once, not retried
    finally:
        cluster.stop()


def served_again(producer: FrameProducer, camera: str, timeout: float) -> bool:
    """Submit until a frame is stored (a pooled connection to a dead master may cost a
    last fallback, a master that refuses writes more), then its result must be ok."""
    ticket = wait_until(
        lambda: (t := producer.submit(camera, photo(JPEG))).fallback is None and t,
        timeout=timeout,
        what=f"{camera}'s frames stored again",
    )
    return producer.wait(ticket, timeout=20).status == "ok"
