"""``is21 bench-gate``: the change gate on real frames (lab/bench/gate.py)."""

from __future__ import annotations

from is21.lab.commands.bench_incidents import ClipBench


class BenchGate(ClipBench):
    bench = "gate"
