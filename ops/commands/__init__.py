"""The ``is21`` command's subcommands: one module each, named here once, imported only
when it runs (as pip's ``commands/__init__.py`` does), so that ``is21 --help`` and a
worker's start load nothing they do not use.

Adding a subcommand is a module here with a ``Command`` subclass, and one line below.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

from is21.ops.commands.base import Command


class CommandInfo(NamedTuple):
    module: str
    class_name: str
    summary: str


COMMANDS: dict[str, CommandInfo] = {
    "worker": CommandInfo("worker", "Worker", "run one detection worker (an RQ SimpleWorker)"),
    "detect": CommandInfo("detect", "Detect", "run the detectors on image files, without Redis"),
    "submit": CommandInfo("submit", "Submit", "submit image files as frames of one camera"),
    "replay": CommandInfo("replay", "Replay", "replay a folder of photos as N cameras"),
    "demo": CommandInfo("demo", "Demo", "embedded Redis + 2 workers + replayed cameras"),
    "health": CommandInfo(
        "health", "Health", "HTTP /healthz, /metrics, /v1/capabilities, /v1/schema"
    ),
    "status": CommandInfo("status", "Status", "workers, queue, cameras and recent events"),
    "retention": CommandInfo("retention", "Retention", "trim frames, results and events by age"),
    "schema": CommandInfo("schema", "Schema", "show or push the event schema"),
    "models": CommandInfo("models", "Models", "list, verify, install, roll back or convert models"),
    "backup": CommandInfo("backup", "Backup", "copy the manifest, its weights and the schema"),
    "restore": CommandInfo("backup", "Restore", "restore a backup into IS21_MODEL_DIR and Redis"),
    "slo": CommandInfo("slo", "Slo", "the service levels over a window, from Prometheus"),
    "soak": CommandInfo("soak", "Soak", "run the fleet for hours; memory slope in MB/hour"),
    "chaos": CommandInfo("chaos", "Chaos", "faults every ~20 s across hosts; a ledger at the end"),
    "bench": CommandInfo("bench", "Bench", "the detector alone vs the fleet vs one job per frame"),
}


def load(name: str) -> Command:
    info = COMMANDS[name]
    module = importlib.import_module(f"{__name__}.{info.module}")
    command: Command = getattr(module, info.class_name)(name, info.summary)
    return command
