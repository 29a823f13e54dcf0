"""Whether this worker's runtime still works: an NPU core can fail while the others run.

On some kernels and driver versions RKNNLite answers "failed to submit" on cores 1 and 2
while core 0 works (airockchip/rknn-toolkit2 issue 294): every inference fails, fast, and
a worker that went on would turn each frame it claims into an error result. Only the
runtime's failures count (``InferenceFailed``): a corrupt JPEG is the frame's fault, and
an output the format cannot decode is the model's, which no restart mends. A detection
that works clears the count.
"""

from __future__ import annotations

# Failures in a row that condemn the core: one could be the frame's, three are the core.
LIMIT = 3
# What a worker whose core failed exits with, so systemd's Restart= starts it again.
EXIT_CODE = 3


class CoreFailed(RuntimeError):
    """The worker's runtime failed LIMIT detections in a row; it stopped to be restarted."""


class CoreHealth:
    def __init__(self, runtime: str, limit: int = LIMIT) -> None:
        self.runtime, self.limit = runtime, limit
        self.in_a_row = 0
        self.failed: str | None = None  # why, once condemned

    def record(self, runtime_error: str | None) -> bool:
        """One detection's outcome (None: it ran); True the moment the core is condemned."""
        if runtime_error is None:
            self.in_a_row = 0
            return False
        self.in_a_row += 1
        if self.failed is None and self.in_a_row == self.limit:
            self.failed = (
                f"{self.runtime} failed {self.in_a_row} detections in a row: {runtime_error}"
            )
            return True
        return False
