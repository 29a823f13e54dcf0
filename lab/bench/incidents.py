"""``is21 bench-incidents``: tracks and incidents on a real fixed-camera clip (issue 31).

Debian's opencv-doc ships ``vtest.avi``: a plaza with pedestrians, 768x576, 10 fps, 795
frames. The real model runs on the clip sampled at the fleet's frame rates, and its
detections go through the workers' own code for one frame (``workers/incidents/follow.py``:
the tracker, the lifecycle, the state record), with each frame's time as Redis would
stamp it. Measured side by side in one run:

- messages a minute: incident messages against today's one event per frame;
- tracks per pedestrian on the hand-labelled stretch (``vtest_labels.py``);
- incidents per continuous presence (people are in view the whole clip: 1);
- a sequence with a known truth: the clip's temporal median (a plaza without people),
  then the labelled stretch, then the median again: when ``new`` and ``end`` come, and
  that the empty parts raise nothing;
- the cost: ``follow`` per frame at 30 cameras, against the detector's time per frame.
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from is21.lab.bench.separable import look_margin, motion_margin
from is21.lab.bench.vtest_labels import LABELS, NOT_PEOPLE, STRETCHES
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from is21.schemas.results import NO_EVENT, Detection, Result
from is21.workers.detector import Detector
from is21.workers.incidents.follow import follow
from is21.workers.incidents.state import CameraState

CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
CLIP_FPS = 10
SIZE = (768, 576)
START = 1_800_000_000.0  # seconds: the replay's clock, as Redis would stamp the frames


def load_clip(path: Path = CLIP) -> list[Image.Image]:
    """Every frame of the clip; PyAV (the dev extra) decodes its DivX 3."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: install Debian's opencv-doc (setup.sh)")
    import av

    with av.open(str(path)) as container:
        # PyAV's to_image has no annotations: its frames, as arrays, are typed.
        return [Image.fromarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def median_background(frames: list[Image.Image]) -> Image.Image:
    """The clip's temporal median: the plaza with nobody in it."""
    stack = np.stack([np.asarray(f) for f in frames[::10]])
    return Image.fromarray(np.median(stack, axis=0).astype(np.uint8))


@dataclass
class Detected:
    by_frame: dict[int, list[Detection]]
    ms: list[float]  # the detector's time per frame
    cpu_ms: list[float] = field(default_factory=list)  # and its CPU (all its threads')

    @classmethod
    def run(cls, detectors: list[Detector], images: dict[int, Image.Image]) -> Detected:
        out = cls({}, [])
        for index, image in images.items():
            data, started, cpu = jpeg(image), time.perf_counter(), time.process_time()
            out.by_frame[index] = [d for det in detectors for d in det.detect(data, 40_000_000)]
            out.ms.append((time.perf_counter() - started) * 1000)
            out.cpu_ms.append((time.process_time() - cpu) * 1000)
        return out


@dataclass
class Replay:
    """One camera's frames through ``follow``: what it sent, and the tracks it made."""

    schema: EventSchema = field(default_factory=lambda: DEFAULT_SCHEMA)
    camera: str = "vtest"
    state: bytes = b""
    messages: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    events: int = 0  # frames that were an event: what is21:events gets today
    track_of: dict[tuple[float, int], int] = field(default_factory=dict)  # (t, det) -> track
    follow_ms: list[float] = field(default_factory=list)  # CPU: one thread's

    def frame(self, at: float, detections: list[Detection], seq: int = 0) -> None:
        primary, events = self.schema.evaluate(detections, self.camera)
        result = Result(
            camera_id=self.camera,
            frame_id=f"{int((START + at) * 1000)}-0",
            seq=seq,
            status="ok",
            primary_event=primary,
            events=events,
            detections=detections,
            width=SIZE[0],
            height=SIZE[1],
        )
        started = time.thread_time()
        followed = follow(self.state, result, self.schema)
        self.follow_ms.append((time.thread_time() - started) * 1000)
        if followed is not None:  # None: nothing tracked, nothing in view
            self.state = followed.state
            self.messages += [(at, m) for m in followed.messages]
        self.events += primary != NO_EVENT
        now = CameraState.decode(self.state).tracks
        for j, det in enumerate(detections):
            for track in now:
                if track.last_seen == START + at and track.box == det.box:
                    self.track_of[(at, j)] = track.id

    def types(self) -> list[str]:
        return [m["type"] for _at, m in self.messages]


def clip_replay(detected: Detected, fps: float) -> Replay:
    """The whole clip at ``fps``: every (10/fps)th frame, at its time in the clip."""
    replay, step = Replay(), round(CLIP_FPS / fps)
    for seq, index in enumerate(sorted(i for i in detected.by_frame if i % step == 0)):
        replay.frame(index / CLIP_FPS, detected.by_frame[index], seq)
    return replay


def fragmentation(
    replay: Replay, detected: Detected, fps: float, frames: range = STRETCHES["all 40 s"]
) -> dict[str, Any]:
    """Tracks per pedestrian on the labelled frames the camera saw at ``fps``, within
    ``frames``: each tracked detection named by the nearest hand-labelled foot point
    (within 12 px), its track ids counted per name."""
    step = round(CLIP_FPS / fps)
    tracks: dict[str, set[int]] = {}
    labelled = [i for i in LABELS if i in frames and i % step == 0]
    for index in labelled:
        labels = LABELS[index]
        for j, det in enumerate(detected.by_frame[index]):
            track = replay.track_of.get((index / CLIP_FPS, j))
            foot = ((det.box[0] + det.box[2]) / 2, det.box[3])
            near = [(abs(x - foot[0]) + abs(y - foot[1]), who) for who, x, y in labels]
            distance, who = min(near)
            if track is not None and distance <= 12 and who not in NOT_PEOPLE:
                tracks.setdefault(who, set()).add(track)
    per_person = {who: len(ids) for who, ids in sorted(tracks.items())}
    ratio = sum(per_person.values()) / max(len(per_person), 1)
    owners: dict[int, set[str]] = {}
    for who, ids in tracks.items():
        for track in ids:
            owners.setdefault(track, set()).add(who)
    shared = sorted("+".join(sorted(w)) for w in owners.values() if len(w) > 1)
    return {
        "tracks_per_pedestrian": round(ratio, 2),
        "labelled_frames": len(labelled),
        "per_pedestrian": per_person,
        "shared_tracks": shared,  # one track for two people: one left, one came
    }


def known_truth(
    detected: Detected, background: list[Detection], end_after: float
) -> dict[str, Any]:
    """Quiet, people (the labelled stretch at 1 fps), quiet again: the times of new and
    end against the first and last frame with a person, and nothing in the quiet parts."""
    replay, t, seq = Replay(), 0.0, 0
    for _ in range(20):  # 20 s of the empty plaza
        replay.frame(t, background, seq)
        t, seq = t + 1, seq + 1
    first = t
    for index in sorted(i for i in LABELS if i in STRETCHES["first 20 s"]):
        replay.frame(t, detected.by_frame[index], seq)
        t, seq = t + 1, seq + 1
    last = t - 1
    for _ in range(int(end_after) + 20):
        replay.frame(t, background, seq)
        t, seq = t + 1, seq + 1
    news = [at for at, m in replay.messages if m["type"] == "new"]
    ends = [at for at, m in replay.messages if m["type"] == "end"]
    return {
        "messages": replay.types(),
        "new_after_first_person_s": news[0] - first if news else None,
        "end_after_last_person_s": ends[0] - last if ends else None,
        "end_after_s": end_after,
        "quiet_before": all(at >= first for at, _m in replay.messages),
        "quiet_after": all(at <= (ends[-1] if ends else last) for at, _m in replay.messages),
    }


def cost(detected: Detected, cameras: int = 30) -> dict[str, float]:
    """``follow``'s CPU a frame with 30 cameras' states interleaved, as a worker serves
    them, over the detector's, each alone. Not a bound on what it takes from the fleet:
    there, beside inference, Redis and the driver on the same cores, the same ``follow``
    takes two to three times this CPU (docs/performance.md, "Incidents")."""
    replays = [Replay(camera=f"cam{i}") for i in range(cameras)]
    for seq, index in enumerate(sorted(i for i in detected.by_frame if i % CLIP_FPS == 0)):
        for replay in replays:
            replay.frame(index / CLIP_FPS, detected.by_frame[index], seq)
    follow_ms = statistics.mean(ms for r in replays for ms in r.follow_ms)
    frame_ms = statistics.mean(detected.cpu_ms)
    return {
        "cameras": cameras,
        "follow_cpu_ms": round(follow_ms, 3),
        "detector_cpu_ms": round(frame_ms, 1),
        "share": round(follow_ms / frame_ms, 4),
    }


def run_on_clip(detectors: list[Detector], clip: Path = CLIP) -> dict[str, Any]:
    frames = load_clip(clip)
    sampled = {i: f for i, f in enumerate(frames) if i % (CLIP_FPS // 2) == 0}  # 2 fps
    detected = Detected.run(detectors, sampled)
    quiet = Detected.run(detectors, {0: median_background(frames)}).by_frame[0]
    minutes = len(frames) / CLIP_FPS / 60
    rates = {}
    for fps in (2.0, 1.0, 0.5):
        replay = clip_replay(detected, fps)
        rates[str(fps)] = {
            "events_per_min": round(replay.events / minutes, 1),
            "incident_messages_per_min": round(len(replay.messages) / minutes, 1),
            "messages": replay.types(),
            "incidents": replay.types().count("new"),
            "stretches": {
                name: fragmentation(replay, detected, fps, frames)
                for name, frames in STRETCHES.items()
            },
            "motion_alone": motion_margin(
                detected.by_frame, round(CLIP_FPS / fps), STRETCHES["all 40 s"]
            ),
        }
    return {
        "clip": str(clip),
        "seconds": len(frames) / CLIP_FPS,
        "rates": rates,
        "background_detections": [d.label for d in quiet],
        "looks": look_margin(detectors[0], {i: jpeg(frames[i]) for i in LABELS}, detected.by_frame),
        "known_truth": known_truth(detected, quiet, DEFAULT_SCHEMA.tracking.end_after),
        "cost": cost(detected),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"vtest.avi, {report['seconds']:.1f} s, people in view throughout",
        f"{'fps':>4} {'events/min':>11} {'incident msgs/min':>18} {'incidents':>10}  "
        "tracks/pedestrian on the labelled frames seen (frames, pedestrians)",
    ]
    for fps, r in report["rates"].items():
        stretches = "; ".join(
            f"{name}: {f['tracks_per_pedestrian']} ({f['labelled_frames']}, "
            f"{len(f['per_pedestrian'])})"
            for name, f in r["stretches"].items()
        )
        lines.append(
            f"{fps:>4} {r['events_per_min']:>11} {r['incident_messages_per_min']:>18} "
            f"{r['incidents']:>10}  {stretches}"
        )
    for fps, r in report["rates"].items():
        for name, f in r["stretches"].items():
            more = {who: n for who, n in f["per_pedestrian"].items() if n > 1}
            lines.append(
                f"  {fps} fps, {name}: more than one track: {more or 'none'}; a track "
                f"shared: {f['shared_tracks'] or 'none'}"
            )
        m = r["motion_alone"]
        if m["steps"]:  # two labelled frames before, one frame apart at this rate
            lines.append(
                f"  {fps} fps, motion alone from the true past, {m['steps']} steps: the feet "
                f"miss where their pace said by {m['miss_median']} box sizes (median, p90 "
                f"{m['miss_p90']}), the nearest other pedestrian is "
                f"{m['nearest_other_median']} from it, and nearer in {m['another_nearer']} of them"
            )
    lines.append(
        "looks, where motion cannot tell (the true past; another pedestrian within the gate"
        " of one a step later): the nearest look is their own in"
    )
    for cue, steps in report["looks"].items():
        lines.append(
            f"  {cue}: "
            + ", ".join(f"{m['rank1']} of {m['cases']} at {step}" for step, m in steps.items())
        )
    truth, cost_ = report["known_truth"], report["cost"]
    lines += [
        f"known truth (empty plaza, the labelled 20 s, empty plaza): {truth['messages']}; "
        f"new {truth['new_after_first_person_s']} s after the first person, end "
        f"{truth['end_after_last_person_s']} s after the last (end_after "
        f"{truth['end_after_s']:.0f} s); quiet parts silent: "
        f"{truth['quiet_before'] and truth['quiet_after']}",
        f"cost at {cost_['cameras']} cameras: follow {cost_['follow_cpu_ms']} ms CPU a frame "
        f"(mean), the detector {cost_['detector_cpu_ms']} ms: {cost_['share'] * 100:.2f} %",
    ]
    return "\n".join(lines)
