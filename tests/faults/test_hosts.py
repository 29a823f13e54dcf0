"""Past one machine: worker boards in network namespaces of their own, one Redis in
another, under the shipped ACL users (lab/hosts.py). A board is cut off mid-flood."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from is21.lab.hosts import Site, SiteFleet
from is21.producer import FrameProducer
from is21.producer.ledger import Ledger
from is21.schemas import keys
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, ROOT, SAMPLES, require_shared
from tests.helpers import results_of, wait_settled, wait_until
from tests.samples import EXPECTED_EVENTS, photo

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


@pytest.fixture
def fleet2(tmp_path: Path) -> Iterator[SiteFleet]:
    require_shared()
    with Site() as site:
        fleet = SiteFleet(site, tmp_path, MODEL_DIR)
        try:
            yield fleet
        finally:
            fleet.stop()


def test_a_board_cut_off_mid_flood(fleet2: SiteFleet) -> None:
    site, admin = fleet2.site, fleet2.admin
    boards = [site.add_host("board1"), site.add_host("board2")]
    for i, board in enumerate(boards, 1):
        fleet2.start_worker(board, f"b{i}", IS21_HEARTBEAT_INTERVAL="0.5")
    wait_until(lambda: admin.zcard(keys.WORKERS) == 2, timeout=60, what="both boards' workers")
    settings = Settings(redis_url=fleet2.admin_url, model_dir=MODEL_DIR)
    ledger = Ledger()
    producer = FrameProducer(admin, settings, ledger)
    cams = [f"cam{i:02d}" for i in range(30)]
    frames = [photo(n) for n in sorted(EXPECTED_EVENTS)]
    stop = threading.Event()

    def camera_server() -> None:  # 30 cameras at ~5 fps: more than two workers serve
        i = 0
        while not stop.wait(0.2):
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
    # One server at a time per camera: its published results go strictly forward (no
    # frame twice, none older than one already answered); every frame is accounted for.
    for cam in cams:
        seqs = [r.seq for r in results_of(admin, cam)]
        assert all(a < b for a, b in itertools.pairwise(seqs)), (cam, seqs)
    accounts = ledger.reconcile(admin)
    assert all(a.balanced and not a.lost for a in accounts.values()), accounts
    stale = sum(int(admin.hget(keys.camera(c), "stale_results") or 0) for c in cams)
    print(f"late publishes dropped as stale: {stale}")
    assert stale >= 1  # board1 was mid-frame when cut: what it sent after was too late
    rq = Path(sys.executable).parent / "rq"
    info = subprocess.run(
        [str(rq), "info", "-W", "-u", fleet2.admin_url],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "b1" in info.stdout and "b2" in info.stdout, info.stdout
    assert all(p.poll() is None for p in fleet2.workers.values()), fleet2.logs()


def test_the_camera_server_cut_off_falls_back_and_recovers(fleet2: SiteFleet) -> None:
    """The camera server's host loses its link for 4 s: every submit still returns within
    the producer's timeout (no_event, counted), and it stores frames again by itself."""
    site = fleet2.site
    board, camera_server = site.add_host("board1"), site.add_host("is22")
    fleet2.start_worker(board, "b1", IS21_HEARTBEAT_INTERVAL="0.5")
    wait_until(lambda: fleet2.admin.zcard(keys.WORKERS) == 1, timeout=60, what="the worker")
    env = {
        "IS21_REDIS_URL": fleet2.url("producer"),
        "IS21_REDIS_TIMEOUT": "1",
        "PATH": "/usr/bin:/bin",
    }
    probe = camera_server.popen(
        [sys.executable, str(Path(__file__).with_name("producer_probe.py")),
         str(SAMPLES / "COCO_val2014_000000181586.jpg"), "14"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(4)
    site.cut(camera_server)
    time.sleep(4)
    site.heal(camera_server)
    out, _ = probe.communicate(timeout=60)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert all(line["submit_s"] < 1 + 0.5 for line in lines), lines  # never hangs
    before = [x for x in lines if x["t"] < 3.5]
    during = [x for x in lines if 4.5 < x["t"] < 7.5]
    after = [x for x in lines if x["t"] > 11]
    assert before and all(x.get("status") == "ok" for x in before), before
    assert during and all("fallback" in x for x in during), during
    assert after and all(x.get("status") == "ok" for x in after), after
    recovered = min(x["t"] for x in lines if x["t"] > 8 and x.get("status") == "ok")
    print(f"the camera server stored frames again {recovered - 8:.1f} s after its link returned")
    counts = fleet2.admin.hgetall(keys.COUNTERS)
    assert int(counts.get(b"fallback:redis_unreachable", 0)) >= len(during), counts
