"""``is21 bench-gate``: the change gate (issue 32) on real frames, side by side in one run.

Frames go through the worker's own frame path (``run_frame``, then ``after_frame``: the
gate, the detectors, the tracks), with the camera's gate reference and tracks carried
from frame to frame as Redis carries them between claims, so what is measured is what a
worker decides. Each frame's time is its place in the sequence, as Redis would stamp it.

- savings: quiet sequences built from a real background (vtest.avi's temporal median,
  the plaza without people) with sensor noise, a slow drift of light and an IR-like
  switch, at 1 and 2 fps: the share of frames the detectors skip;
- cost: the gate's look at busy real frames (the clip at 1 fps, each frame against the
  one before), ms a frame, beside the full decode and the detector;
- no miss: the empty plaza, the clip's frames with people, the empty plaza again, gated
  and ungated: the human event of every frame with people must be the same, and the
  time to a result no longer at the median.
"""

from __future__ import annotations

import itertools
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from is21.lab.bench.incidents import CLIP, CLIP_FPS, jpeg, load_clip, median_background
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema, Gating
from is21.schemas.settings import Settings
from is21.workers.claims import Claim
from is21.workers.detector import Detector
from is21.workers.frame import GATE, Served, after_frame, run_frame
from is21.workers.gate import Reference, decide
from is21.workers.image import prepare

START_MS = 1_800_000_000_000  # the replay's clock, as Redis would stamp the frames
MAX_PIXELS = 40_000_000


@dataclass
class Engine:
    """What ``run_frame`` asks of a worker (``frame.Serving``), without Redis."""

    detectors: list[Detector]
    schema: EventSchema
    settings: Settings = field(default_factory=Settings)
    worker_name: str = "bench"
    model: str = ""  # the detectors' names and digests, "+"-joined as a worker's
    model_sha256: str = ""

    def __post_init__(self) -> None:
        self.model = "+".join(d.spec.name for d in self.detectors)
        self.model_sha256 = "+".join(d.spec.sha256 for d in self.detectors)


@dataclass
class Camera:
    """One camera's frames through the frame path, its gate reference and tracks kept as
    the publish writes them and the next claim reads them."""

    engine: Engine
    tracking: bytes = b""
    gate: bytes = b""
    served: list[Served] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)  # claim to result, in process

    def serve(self, at: float, frame: bytes) -> Served:
        seq = len(self.served) + 1
        claim = Claim(
            "bench", f"{START_MS + round(at * 1000)}-0", seq, b"", frame, 0, 0.0,
            datetime.now(UTC), "", None, self.tracking, self.gate,
        )  # fmt: skip
        started = time.perf_counter()
        served = run_frame(self.engine, claim)
        followed, looked = after_frame(self.engine.schema, served)
        self.ms.append((time.perf_counter() - started) * 1000)
        self.tracking = followed.state if followed is not None else self.tracking
        self.gate = looked.reference or self.gate
        self.served.append(served)
        return served

    def skipped(self) -> float:
        return sum(s.result.gated for s in self.served) / max(len(self.served), 1)


def schema_with(gate: Gating) -> EventSchema:
    return DEFAULT_SCHEMA.model_copy(update={"gate": gate})


def quiet(background: Image.Image, seconds: float, fps: float, seed: int = 32) -> list[bytes]:
    """The empty plaza as a camera sends it for ``seconds``: sensor noise on every frame
    (sigma 3 gray levels), the light drifting 12 % brighter over the sequence (a cloud,
    dusk), and at 60 % of it the camera switching to IR (gray, flatter, brighter)."""
    rng = np.random.default_rng(seed)
    base = np.asarray(background, dtype=np.float32)
    count = round(seconds * fps)
    frames = []
    for i in range(count):
        pixels = base * (1 + 0.12 * i / count)
        if i >= 0.6 * count:
            pixels = pixels.mean(axis=2, keepdims=True).repeat(3, axis=2) * 0.7 + 60
        noisy = np.clip(pixels + rng.normal(0, 3, pixels.shape), 0, 255).astype(np.uint8)
        frames.append(jpeg(Image.fromarray(noisy)))
    return frames


def savings(detectors: list[Detector], background: Image.Image) -> dict[str, Any]:
    out = {}
    for fps in (1.0, 2.0):
        camera = Camera(Engine(detectors, DEFAULT_SCHEMA))
        for i, frame in enumerate(quiet(background, 120, fps)):
            camera.serve(i / fps, frame)
        reasons = [s.decision.reason for s in camera.served if s.decision is not None]
        out[str(fps)] = {
            "frames": len(camera.served),
            "skipped": round(camera.skipped(), 3),
            "runs": {r: reasons.count(r) for r in sorted(set(reasons)) if r != "unchanged"},
        }
    return out


def cost(detectors: list[Detector], busy: list[bytes]) -> dict[str, float]:
    """The gate's look at each busy frame against the one before (a change: its whole
    comparison runs), beside the full decode and the detectors on the same frames."""
    settings, gate_ms, frame_ms = Gating(), [], []
    model = Engine(detectors, DEFAULT_SCHEMA).model
    for before, frame in itertools.pairwise(busy):
        ref = decide(GATE, before, None, 0.0, settings, model, MAX_PIXELS).picture
        assert ref is not None
        reference = Reference(ref, "0-0", 0.0, model)
        decision = decide(GATE, frame, reference, 1.0, settings, model, MAX_PIXELS)
        gate_ms.append(decision.ms)
        started = time.perf_counter()
        for det in detectors:  # the decode counted, as in a frame the gate lets through
            det.detect(
                frame, MAX_PIXELS, None, {det.letterbox: prepare(frame, det.letterbox, MAX_PIXELS)}
            )
        frame_ms.append((time.perf_counter() - started) * 1000)
    gate, full = statistics.median(gate_ms), statistics.median(frame_ms)
    return {
        "frames": len(gate_ms),
        "gate_ms_median": round(gate, 2),
        "gate_ms_p95": round(sorted(gate_ms)[int(0.95 * (len(gate_ms) - 1))], 2),
        "decode_and_detect_ms_median": round(full, 1),
        "gate_share_of_a_frame": round(gate / full, 3),
    }


def no_miss(
    detectors: list[Detector], background: Image.Image, people: list[bytes]
) -> dict[str, Any]:
    """Quiet, people, quiet; each frame to a gated and an ungated camera."""
    quiet_before, quiet_after = quiet(background, 15, 1, 1), quiet(background, 40, 1, 2)
    frames = [(f, False) for f in quiet_before] + [(f, True) for f in people]
    frames += [(f, False) for f in quiet_after]
    gated = Camera(Engine(detectors, DEFAULT_SCHEMA))
    ungated = Camera(Engine(detectors, schema_with(Gating(enabled=False))))
    for i, (frame, _) in enumerate(frames):
        gated.serve(float(i), frame)
        ungated.serve(float(i), frame)
    with_people = [i for i, (_, person) in enumerate(frames) if person]
    humans = [
        ("human" in gated.served[i].result.events, "human" in ungated.served[i].result.events)
        for i in with_people
    ]
    return {
        "frames": len(frames),
        "frames_with_people": len(with_people),
        "human_ungated": sum(u for _, u in humans),
        "differ": sum(g != u for g, u in humans),
        "skipped_with_people": sum(gated.served[i].result.gated for i in with_people),
        "skipped_quiet": sum(
            s.result.gated for i, s in enumerate(gated.served) if i not in set(with_people)
        ),
        "ms_median_with_people_gated": round(
            statistics.median(gated.ms[i] for i in with_people), 1
        ),
        "ms_median_with_people_ungated": round(
            statistics.median(ungated.ms[i] for i in with_people), 1
        ),
        "ms_median_all_gated": round(statistics.median(gated.ms), 1),
        "ms_median_all_ungated": round(statistics.median(ungated.ms), 1),
    }


def run_on_clip(detectors: list[Detector], clip: Path = CLIP) -> dict[str, Any]:
    frames = load_clip(clip)
    background = median_background(frames)
    busy = [jpeg(f) for i, f in enumerate(frames) if i % CLIP_FPS == 0]  # 1 fps
    return {
        "clip": str(clip),
        "savings": savings(detectors, background),
        "cost": cost(detectors, busy),
        "no_miss": no_miss(detectors, background, busy[40:60]),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = ["quiet plaza, 120 s (noise, 12 % drift of light, IR switch at 60 %):"]
    for fps, r in report["savings"].items():
        lines.append(
            f"  {fps} fps: {r['skipped'] * 100:.1f} % of {r['frames']} frames skipped; "
            f"the detectors ran for {r['runs']}"
        )
    c, m = report["cost"], report["no_miss"]
    lines += [
        f"busy clip at 1 fps: the gate {c['gate_ms_median']} ms a frame (median, p95 "
        f"{c['gate_ms_p95']}), the decode and detectors {c['decode_and_detect_ms_median']} ms: "
        f"{c['gate_share_of_a_frame'] * 100:.1f} %",
        f"no miss: {m['frames_with_people']} frames with people between quiet ones: human "
        f"ungated on {m['human_ungated']}, gated differs on {m['differ']}, skipped with "
        f"people {m['skipped_with_people']}, skipped quiet {m['skipped_quiet']} of "
        f"{m['frames'] - m['frames_with_people']}",
        f"  claim to result, median, frames with people: gated "
        f"{m['ms_median_with_people_gated']} ms, ungated {m['ms_median_with_people_ungated']} "
        f"ms; all frames: gated {m['ms_median_all_gated']} ms, ungated "
        f"{m['ms_median_all_ungated']} ms",
    ]
    return "\n".join(lines)
