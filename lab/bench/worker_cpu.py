"""What tracking and incidents cost the workers, measured where they run.

Two flat-out phases side by side (with incidents and without) differ in results a second
by several percent from the shared VM's noise alone, far more than the 1 % the issue
bounds, and so does the CPU a result costs. What does not drift with the machine is the
share of a worker's CPU a frame that goes to ``after_frame`` (tracks, incidents, the gate's
reference: each worker counts its CPU, the heartbeat's ``tracking_cpu_ms``), since the
contention that slows it slows inference alike. Flat out the fleet is CPU-bound, so that
share of the frame's CPU is the share of results a second it takes: the ratio it moves.
Redis, on the same cores, counts the time its functions took (INFO commandstats): what the
tracking state and the incidents add to the claim and the publish.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

from is21.producer import FrameProducer
from is21.schemas import keys

# /proc/PID/stat after the command's closing parenthesis: state is field 3, utime 14,
# stime 15 (proc(5)).
TIMES = slice(14 - 3, 15 - 3 + 1)
FUNCTIONS = ("fcall", "fcall_ro")


@dataclass(frozen=True)
class Tally:
    cpu_ms: float  # the worker processes' CPU
    tracking_ms: float  # of which after_frame
    functions_ms: float  # Redis's time in the fleet's functions (claims, publishes: FCALL)
    frames: int

    def __sub__(self, other: Tally) -> Tally:
        return Tally(
            self.cpu_ms - other.cpu_ms,
            self.tracking_ms - other.tracking_ms,
            self.functions_ms - other.functions_ms,
            self.frames - other.frames,
        )

    def per_frame(self) -> Tally | None:
        if self.frames <= 0:
            return None
        n = self.frames
        return Tally(self.cpu_ms / n, self.tracking_ms / n, self.functions_ms / n, 1)


def heartbeats(producer: FrameProducer, workers: list[str]) -> list[dict[str, Any]]:
    beats = []
    for w in workers:
        raw: Any = producer.client.get(keys.heartbeat(w))
        if raw:
            beats.append(json.loads(raw))
    return beats


def process_cpu_ms(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[TIMES]) * 1000 / os.sysconf("SC_CLK_TCK")


def tally(
    producer: FrameProducer, names: list[str], pids: list[int], timeout: float = 15.0
) -> Tally:
    """The workers' counters once each has beaten since now: when a phase has settled
    (no frame waiting or in hand), every one of its frames is in them."""
    since, deadline = time.time(), time.monotonic() + timeout
    beats: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        beats = heartbeats(producer, names)
        if len(beats) == len(names) and all(b["beat_at"] > since for b in beats):
            break
        time.sleep(0.05)
    else:
        raise RuntimeError(f"the workers did not beat within {timeout:.0f}s")
    # A function's time includes the commands it calls, which are counted again apart.
    stats: Any = producer.client.info("commandstats")
    functions_us = sum(int(stats.get(f"cmdstat_{c}", {}).get("usec", 0)) for c in FUNCTIONS)
    return Tally(
        sum(process_cpu_ms(pid) for pid in pids),
        sum(float(b.get("tracking_cpu_ms") or 0.0) for b in beats),
        functions_us / 1000,
        sum(int(b["frames_processed"]) + int(b["frames_failed"]) for b in beats),
    )
