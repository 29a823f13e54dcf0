"""Hot model reload: load the new detectors beside the old ones, switch between frames.

SIGHUP (``systemctl reload is21-worker@K``) only sets a flag; a background thread does
the slow part (sha256 check, runtime init) while the worker keeps serving with the old
models, and the job loop swaps them in between two frames. A model that fails to load is
refused and the old one stays in service, with the reason in the heartbeat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from is21.workers.detector import Detector

log = logging.getLogger(__name__)


class ModelReloader:
    def __init__(self, load: Callable[[], list[Detector]]) -> None:
        self.load = load
        self.requested = threading.Event()
        self.error: str | None = None
        self._ready: list[Detector] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="is21-reload", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        """Safe to call from a signal handler: it only sets an event."""
        self.requested.set()

    def take(self) -> list[Detector] | None:
        """The newly loaded detectors, once, if a reload has finished."""
        with self._lock:
            ready, self._ready = self._ready, None
        return ready

    def stop(self) -> None:
        self._stop.set()
        self.requested.set()

    def _run(self) -> None:
        while True:
            self.requested.wait()
            self.requested.clear()
            if self._stop.is_set():
                return
            try:
                detectors = self.load()
            except Exception as exc:  # keep serving with the old models, say why
                self.error = f"reload refused: {exc}"
                log.error("model reload failed; keeping the loaded models: %s", exc)
                continue
            with self._lock:
                self._ready = detectors
            self.error = None
