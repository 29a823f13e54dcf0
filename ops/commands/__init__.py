"""The ``is21`` command's subcommands: one module each, named here once, imported only
when it runs (as pip's ``commands/__init__.py`` does), so that ``is21 --help`` and a
worker's start load nothing they do not use.

Adding a subcommand is a module with a ``Command`` subclass (here, or in ``is21.lab.commands``
for the lab's), and one line below. The lab's are named by string only: the product
never imports the lab.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from is21.ops.commands.base import Command


class CommandInfo(NamedTuple):
    module: str  # ROOM.MODULE: is21.ROOM.commands.MODULE, ROOM being ops or lab
    class_name: str
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "worker": CommandInfo("ops.worker", "Worker", "run one detection worker (an RQ SimpleWorker)"),
    "detect": CommandInfo("ops.detect", "Detect", "the detectors on image files, without Redis"),
    "submit": CommandInfo("ops.submit", "Submit", "submit image files as frames of one camera"),
    "replay": CommandInfo("ops.replay", "Replay", "replay a folder of photos as N cameras"),
    "demo": CommandInfo("ops.demo", "Demo", "embedded Redis + 2 workers + replayed cameras"),
    "health": CommandInfo(
        "ops.health", "Health", "HTTP /healthz, /metrics, /v1/capabilities, /v1/schema"
    ),
    "status": CommandInfo("ops.status", "Status", "workers, queue, cameras and recent events"),
    "results": CommandInfo("ops.results", "Results", "a camera's recent results and errors"),
    "snapshot": CommandInfo(
        "ops.snapshot", "Snapshot", "a camera's newest frame with its result drawn on"
    ),
    "workers": CommandInfo("ops.workers", "Workers", "the workers the fleet expects; forget one"),
    "retention": CommandInfo(
        "ops.retention", "Retention", "trim frames, results and events by age"
    ),
    "schema": CommandInfo("ops.schema", "Schema", "show or push the event schema"),
    "models": CommandInfo(
        "ops.models", "Models", "list, verify, install, roll back or convert models"
    ),
    "backup": CommandInfo("ops.backup", "Backup", "copy the manifest, its weights and the schema"),
    "restore": CommandInfo(
        "ops.backup", "Restore", "restore a backup into IS21_MODEL_DIR and Redis"
    ),
    "slo": CommandInfo("ops.slo", "Slo", "service levels over a window, from Prometheus"),
    "soak": CommandInfo("lab.soak", "Soak", "the fleet for hours; memory slope in MB/hour"),
    "chaos": CommandInfo("lab.chaos", "Chaos", "faults every ~20 s across hosts; a ledger"),
    "bench": CommandInfo("lab.bench", "Bench", "detector alone vs fleet vs one job per frame"),
    "bench-incidents": CommandInfo(
        "lab.bench_incidents", "BenchIncidents", "tracks and incidents on a real clip: the cost"
    ),
    "bench-gate": CommandInfo(
        "lab.bench_gate", "BenchGate", "the change gate on real frames: savings, cost, no miss"
    ),
}


def load(name: str) -> Command:
    info = COMMANDS[name]
    room, module_name = info.module.split(".")
    module = importlib.import_module(f"is21.{room}.commands.{module_name}")
    command: Command = getattr(module, info.class_name)(name, info.summary)
    return command
