"""A camera simulator: photos from a folder, replayed as N cameras at F frames/s."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from is21.producer.client import FrameProducer
from is21.producer.ticket import Ticket


def load_photos(folder: Path) -> list[tuple[str, bytes]]:
    photos = [
        (p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in (".jpg", ".jpeg")
    ]
    if not photos:
        raise FileNotFoundError(f"no .jpg files in {folder}")
    return photos


@dataclass
class ReplayReport:
    submitted: Counter[str] = field(default_factory=Counter)
    tickets: list[Ticket] = field(default_factory=list)
    seconds: float = 0.0


def replay(
    producer: FrameProducer,
    photos: list[tuple[str, bytes]],
    *,
    cameras: int,
    fps: float,
    seconds: float,
    prefix: str = "cam",
) -> ReplayReport:
    """Submit on a fixed schedule; a late loop skips ahead rather than bursting."""
    names = [f"{prefix}{i:02d}" for i in range(cameras)]
    report = ReplayReport()
    cycle = itertools.cycle(photos)
    period = 1.0 / fps
    start = time.monotonic()
    tick = 0
    while (now := time.monotonic()) - start < seconds:
        due = start + tick * period
        if now < due:
            time.sleep(due - now)
        for cam in names:
            _name, jpeg = next(cycle)
            report.tickets.append(producer.submit(cam, jpeg))
            report.submitted[cam] += 1
        tick = max(tick + 1, int((time.monotonic() - start) / period))
    report.seconds = time.monotonic() - start
    return report
