"""A 3-minute chaos run (docs/reliability.md has a 30-minute one): every kind of fault at
least once, then every frame accounted for and every lost frame explained; and a run
stopped by SIGTERM leaves nothing behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from is21.lab.chaos import run_chaos
from is21.lab.chaos_report import FAULTS, format_ledger
from tests.conftest import MODEL_DIR, ROOT, SAMPLES, require_shared
from tests.helpers import wait_until

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_three_minutes_of_chaos_end_with_a_balanced_ledger() -> None:
    require_shared()
    run = run_chaos(SAMPLES, MODEL_DIR, minutes=3, seed=21, interval=20)
    print(format_ledger(run))
    assert {f.kind for f in run.faults} == set(FAULTS), run.faults
    assert len(run.accounts) == 30
    for cam, a in run.accounts.items():
        parts = a["fallback"] + a["processed"] + a["failed"] + a["superseded"] + len(a["lost"])
        assert a["submitted"] == parts and a["processed"] > 0, (cam, a)
    assert not run.unexplained_lost, run.unexplained_lost
    assert run.worst_gap_s < 30, (run.worst_gap_s, run.worst_cause)
    # Every worker came back after its faults, and the killed masters came back replicas.
    assert run.live_at_end == ["board1.npu0", "board2.npu0", "board3.npu0"], run.live_at_end
    assert run.replication.count("replica of") == 1, run.replication
    assert "1 replica online" in run.replication, run.replication


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _ip_netns().splitlines() if line.startswith("is21-")}


def _ip_netns() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def _chaos_processes() -> set[int]:
    """Redis servers and sentinels (redis-server titles itself with its address, on the
    sites' subnet), workers and camera servers of chaos runs."""
    marks = (b"redis-server 10.21.0.", b"is21.ops\x00worker", b"is21.lab.chaos_camera")
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if proc.name.isdigit() and any(mark in cmdline for mark in marks):
            pids.add(int(proc.name))
    return pids


def test_a_chaos_run_stopped_by_sigterm_removes_its_hosts_and_processes() -> None:
    """As Ctrl-C does: a supervisor (or a CI timeout) stops runs with SIGTERM."""
    require_shared()
    namespaces, processes = _namespaces(), _chaos_processes()
    argv = ["chaos", "--images", str(SAMPLES), "--minutes", "10", "--interval", "3"]
    run = subprocess.Popen(
        [sys.executable, "-u", "-m", "is21.ops", *argv],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "IS21_MODEL_DIR": str(MODEL_DIR)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert run.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(run.stdout or []), daemon=True)
    reader.start()
    try:
        # Its hosts and processes up (a line on the way, a warning say, is no sign of them):
        # the switch, redis, 3 boards and is22; 2 redis, 3 sentinels, is22 and workers.
        def up() -> bool:
            hosts, procs = _namespaces() - namespaces, _chaos_processes() - processes
            return (len(hosts) == 6 and len(procs) >= 7) or run.poll() is not None

        wait_until(up, timeout=120, what="the chaos run's hosts and processes")
        assert run.poll() is None, lines
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=120) == 128 + signal.SIGTERM, lines
    finally:
        if run.poll() is None:
            run.kill()
    assert _namespaces() - namespaces == set(), _ip_netns()
    wait_until(lambda: not _chaos_processes() - processes, timeout=10, what="no process left")
