"""A phase of the bench: cameras driven through the fleet (or the naive baseline), with
every result and its latency."""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from PIL import Image
from rq import Queue

from is21.lab.naive_baseline import detect_frame
from is21.producer import FrameProducer
from is21.producer.reader import ResultsReader
from is21.schemas import keys
from is21.schemas.results import Result

LIGHT_WARMUP = 1.0  # s: the light phase's first frame is not measured


PHASE_NAMES = {
    "flat": "fleet flat out",
    "light": "fleet light 1fps",
    "naive": "naive RQ per frame",
    "quiet": "80% quiet",
}
QUIET_RUN = 5  # a camera's frames come in runs of one scene: a change, then 4 quiet ones


@dataclass(frozen=True)
class Phase:
    """One of the bench's fleet phases. Flat out: a camera gets its next frame as soon as
    its result is out; light: one camera, one frame a second; naive: flat out through one
    RQ job per frame, the frame inside it."""

    kind: Literal["flat", "light", "naive", "quiet"]
    cameras: int
    # False: the cameras' event schema says no incidents; beside the same phase with
    # them, in the same repeats, what tracking and incidents cost the fleet.
    incidents: bool = True
    # True: the change gate on (the schema's default); every other phase switches it off,
    # so that each frame runs the detectors and the phases measure what they always did.
    gated: bool = False

    @property
    def name(self) -> str:
        if not self.incidents:
            return "flat, no incidents"
        if self.kind == "quiet":
            return f"{PHASE_NAMES['quiet']}, {'gated' if self.gated else 'ungated'}"
        return PHASE_NAMES[self.kind]

    @property
    def tag(self) -> str:
        """What its cameras' ids carry: ``bench-TAG-NN``."""
        if self.kind in ("naive", "light"):
            return self.kind
        suffix = {"flat": "", "quiet": "q"}[self.kind] + ("" if self.incidents else "u")
        return f"{self.cameras}{suffix}{'g' if self.gated else ''}"


@dataclass
class QuietFrames:
    """What a fixed camera sends: runs of ``QUIET_RUN`` frames of one scene, the first a
    change (a photo), the others the same scene with a sensor noise of their own (sigma 3
    gray levels, as a camera's JPEG at quality 80; made once, before the phase: the driver
    shares the machine)."""

    photos: list[bytes]
    noisy: list[list[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(32)
        for photo in self.photos:
            pixels = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), dtype=np.float32)
            variants = []
            for _ in range(QUIET_RUN - 1):
                noisy = np.clip(pixels + rng.normal(0, 3, pixels.shape), 0, 255)
                out = io.BytesIO()
                Image.fromarray(noisy.astype(np.uint8)).save(out, "JPEG", quality=80)
                variants.append(out.getvalue())
            self.noisy.append(variants)

    def frame(self, camera: int, k: int) -> bytes:
        """Camera ``camera``'s ``k``-th frame."""
        scene = (k // QUIET_RUN + camera) % len(self.photos)
        return self.photos[scene] if k % QUIET_RUN == 0 else self.noisy[scene][k % QUIET_RUN - 1]


@dataclass
class FleetRun:
    rate: float
    latencies: list[float]
    results: list[Result]
    skipped: int
    expired: int
    at: float  # time.monotonic() at the middle of the measured window
    # Each result's latency minus its frame's own decode + inference: what the fleet adds
    # (a per-frame difference, so the machine's drift cancels out).
    added: list[float]


def drive(
    producer: FrameProducer,
    photos: list[bytes],
    cameras: int,
    seconds: float,
    warmup: float,
    fps: float | None,
    tag: str,
    naive: Queue | None = None,
    quiet: QuietFrames | None = None,
) -> FleetRun:
    """Flat out (fps None): a camera gets its next frame as soon as its result is out, so
    every camera always has a frame waiting once cameras > workers. Light: each camera
    submits at ``fps`` and waits for nothing. ``quiet``: each camera's own runs of one
    scene, else the photos in turn across all cameras."""
    names = [f"bench-{tag}-{i:02d}" for i in range(cameras)]
    submitted_at: dict[str, float] = {}
    # Start after whatever earlier repeats left in these streams, and count deltas.
    reader = ResultsReader(producer.client)
    reader.follow(names)
    before = {n: producer.client.hmget(keys.camera(n), "skipped", "expired") for n in names}
    latencies: list[float] = []
    added: list[float] = []
    results: list[Result] = []
    n = 0
    sent = dict.fromkeys(names, 0)

    def submit(name: str) -> None:
        nonlocal n
        if quiet is not None:
            producer.submit(name, quiet.frame(names.index(name), sent[name]))
            sent[name] += 1
        elif naive is None:
            producer.submit(name, photos[n % len(photos)])
        else:  # one RQ job per frame, the frame inside it
            jpeg = base64.b64encode(photos[n % len(photos)]).decode()
            naive.enqueue(detect_frame, name, n, jpeg)
        submitted_at[name] = time.monotonic()
        n += 1

    start = time.monotonic()
    measuring_from, end = start + warmup, start + warmup + seconds
    at = start + warmup + seconds / 2  # CLOCK_MONOTONIC, as the detector's runs
    next_tick = start
    if fps is None:
        for name in names:
            submit(name)
    while (now := time.monotonic()) < end:
        if fps is not None and now >= next_tick:
            for name in names:
                submit(name)
            next_tick += 1.0 / fps
        block = 100 if fps is None else max(1, int((next_tick - now) * 1000))
        for name, got in reader.read(block):
            arrived = time.monotonic()
            if arrived >= measuring_from and got:
                latencies.append((arrived - submitted_at[name]) * 1000)
                added.append(latencies[-1] - got[-1].processing_ms)
                results += got
            if fps is None:
                submit(name)
    settle(producer, naive)
    skipped = expired = 0
    for name in names:
        raw: Any = producer.client.hmget(keys.camera(name), "skipped", "expired")
        old: Any = before[name]
        skipped += int(raw[0] or 0) - int(old[0] or 0)
        expired += int(raw[1] or 0) - int(old[1] or 0)
    return FleetRun(len(results) / seconds, latencies, results, skipped, expired, at, added)


def settle(producer: FrameProducer, naive: Queue | None, timeout: float = 60.0) -> None:
    """Wait until the fleet has served what a phase left waiting when its driver stopped.

    Flat out, every camera has a frame waiting at the end: at 30 cameras that is a second
    of work, which would otherwise land in the next phase (the light phase's first frame
    queued behind it; the naive phase's jobs sharing the cores with the detector alone).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if naive is not None:
            busy = naive.count + naive.started_job_registry.count
        else:
            pipe = producer.client.pipeline(transaction=False)
            pipe.zcard(keys.READY)
            pipe.zcard(keys.LEASES)
            busy = sum(pipe.execute())
        if busy == 0:
            return
        time.sleep(0.02)
    raise RuntimeError(f"the fleet did not finish a phase's frames within {timeout:.0f}s")
