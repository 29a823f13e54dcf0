"""The status page (issue 33) in a real browser, and what it must never do: delay the
``/healthz`` that is22 relies on.

Debian's chromium, headless, driven by Selenium through Debian's chromedriver (the
set-up installs both), loads ``/`` from a real health endpoint beside a real fleet."""

from __future__ import annotations

import shutil
import signal
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from is21.producer import FrameProducer
from tests.conftest import Fleet, Health
from tests.helpers import wait_until
from tests.samples import photo

pytestmark = pytest.mark.integration

PEOPLE = "COCO_val2014_000000181542.jpg"
CAT = "COCO_val2014_000000181586.jpg"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are needed: run scripts/setup.sh")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium'}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def page_facts(driver: webdriver.Chrome) -> dict[str, Any]:
    facts: dict[str, Any] = driver.execute_script(
        """
        const text = (sel) => [...document.querySelectorAll(sel)].map((e) => e.textContent);
        return {
          banner: text('#banner div'),
          workers: [...document.querySelectorAll('#workers tbody tr')].map(
            (r) => [...r.children].map((c) => c.textContent)),
          cameras: text('#cameras .name'),
          thumbnails: [...document.querySelectorAll('#cameras img')].map(
            (i) => i.complete ? i.naturalWidth : 0),
        };
        """
    )
    return facts


def test_the_page_shows_workers_cameras_and_their_frames_and_a_worker_lost(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    health_factory: Callable[..., Health],
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    fleet = fleet_factory(2)
    health = health_factory()
    for camera, frame in (("street", PEOPLE), ("window", CAT)):
        producer.wait(producer.submit(camera, photo(frame)), timeout=30)
    browser.get(health.base + "/")

    def shown() -> dict[str, Any] | None:
        facts = page_facts(browser)
        ok = [w for w in facts["workers"] if w[1] == "ok"]
        thumbs = facts["thumbnails"]
        ready = len(ok) == 2 and sorted(facts["cameras"]) == ["street", "window"]
        return facts if ready and len(thumbs) == 2 and all(w >= 300 for w in thumbs) else None

    facts = wait_until(shown, 20, "the page with two workers, two cameras, their frames")
    assert facts["banner"] == ["no problems"]
    assert browser.title == "is21 fleet"
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    # A worker killed without a word: the banner says so within 10 s.
    victim = fleet.procs[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    lost = time.monotonic()
    wait_until(lambda: any("missing" in b for b in page_facts(browser)["banner"]), 10, "banner")
    assert time.monotonic() - lost <= 10


def trickle(port: int, stop: threading.Event) -> None:
    """A client that sends its request one byte every half second, and never finishes."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for byte in b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000:
            if stop.wait(0.5):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # the endpoint hung up on it: what its timeout is for
                return


def test_twenty_open_pages_and_a_slow_client_do_not_delay_healthz(
    fleet_factory: Callable[..., Fleet],
    producer: FrameProducer,
    health_factory: Callable[..., Health],
) -> None:
    fleet_factory(1)
    health = health_factory()
    for camera in ("a", "b", "c"):
        producer.wait(producer.submit(camera, photo(PEOPLE)), timeout=30)
    port = int(health.base.rsplit(":", 1)[1])
    stop = threading.Event()

    def viewer(n: int) -> None:  # what the page's script does, twice as often
        while not stop.is_set():
            health.request("/v1/status")
            if n % 4 == 0:
                health.request(f"/v1/cameras/{'abc'[n % 3]}/latest.jpg?thumb=1")
            stop.wait(1.0)

    threads = [threading.Thread(target=viewer, args=(n,)) for n in range(20)]
    threads.append(threading.Thread(target=trickle, args=(port, stop)))
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # the viewers at it
        times = []
        for _ in range(200):
            started = time.perf_counter()
            status, _ = health.request("/healthz")
            times.append((time.perf_counter() - started) * 1000)
            assert status == 200
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    p99 = sorted(times)[int(0.99 * len(times)) - 1]
    assert p99 < 100, (p99, statistics.median(times))
