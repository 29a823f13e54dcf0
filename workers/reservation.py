"""How long a camera a worker reserves waits for it: a named policy, as redis-py names
its backoffs.

A claim reserves the next ready camera for the same job, so that its frame can be read
in the round trip of the job's next claim (one round trip per frame flat out). The
reservation is a lease; this policy sets its length. Two of the holder's recent frame
times: past that the holder has stalled (the VM, a slow frame, a hung NPU), and the
camera goes, with its place in the queue, to whichever worker claims next rather than
wait out the stall. Until a few frames were timed the lease is a camera lease.
"""

from __future__ import annotations

import statistics
from collections import deque


class ReservationPolicy:
    def __init__(self, *, factor: float = 2.0, window: int = 15, min_samples: int = 3) -> None:
        self.factor, self.min_samples = factor, min_samples
        self._frame_ms: deque[float] = deque(maxlen=window)  # recent claim-to-claim times
        # Set by the job's thread, read by the helper thread's claims: one int, no lock.
        self.lease_ms: int | None = None  # None: the camera lease

    def record(self, frame_ms: float) -> None:
        """A frame's claim-to-claim time on this worker's critical path."""
        self._frame_ms.append(frame_ms)
        if len(self._frame_ms) >= self.min_samples:
            self.lease_ms = max(1, round(self.factor * statistics.median(self._frame_ms)))
