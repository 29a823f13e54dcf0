"""JSON lines on stderr: what operators grep and ship to their log store."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime

CONTEXT_FIELDS = (
    "camera_id",
    "primary_event",
    "processing_ms",
    "request_id",
    "status",
    "error",
    "worker",
    "incident",
    "kind",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created).astimezone().isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # RQ installs its own handler on its logger; one format for the whole process.
    for name in ("rq.worker", "rq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
