"""The fleet's CPU seconds so far: its worker processes' (their threads, and any child
they waited for) and its Redis's. Taken at both ends of a phase's measured window and
divided by its results, it is what one result cost the machine: on this shared 2-core VM
the results a second of two phases side by side differ by several percent from steal
and scheduling alone, while the CPU a result costs moves far less, so a feature's cost
(the incidents') is told apart from the noise."""

from __future__ import annotations

import os
from collections.abc import Callable

from redis import Redis

# /proc/PID/stat after the command's closing parenthesis: state is field 3, utime 14,
# stime 15, cutime 16, cstime 17 (proc(5)).
TIMES = slice(14 - 3, 17 - 3 + 1)


def fleet_cpu(pids: list[int], client: Redis) -> Callable[[], float]:
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        total = 0.0
        for pid in pids:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[TIMES]) / tick
        info = client.info("cpu")
        return total + float(info["used_cpu_sys"]) + float(info["used_cpu_user"])

    return seconds
