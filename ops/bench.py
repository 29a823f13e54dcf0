"""``is21 bench``: the detector alone and the fleet, side by side in one run.

The detector alone (decode, preprocess, infer, decode outputs; no Redis, no RQ) is the
ceiling; the fleet's results/s is reported as a ratio of it, on the same photos, model
and thread settings. The phases are interleaved and repeated (``--repeats``) and each
figure is the median over repeats, because on a shared 2-core machine the speed drifts
by 10-20 % from one minute to the next; a ratio of two phases measured minutes apart
would mostly measure that drift. For the same reason each repeat runs the detector alone
twice, before the fleet's flat-out phases and after the naive one, and each of those
phases is compared with the detector's rate interpolated at its own time (``ceiling_at``).
The light phase's ceiling, the detector paced at 1 image/s, runs in the same seconds as
it, half a second after each of its frames.
"""

from __future__ import annotations

import base64
import json
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
from bisect import bisect_left, bisect_right
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from rq import Queue
from rq.serializers import JSONSerializer

from is21.ops.harness import local_fleet, stop_workers
from is21.ops.naive_baseline import QUEUE as NAIVE_QUEUE
from is21.ops.naive_baseline import detect_frame
from is21.ops.preprocess_bench import as_1080p, compare_fresh
from is21.producer import FrameProducer
from is21.producer.client import result_from_entry
from is21.producer.replay import load_photos
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers import stats
from is21.workers.image import Letterbox


@dataclass
class Row:
    phase: str
    cameras: int
    workers: int
    results_per_s: float
    ratio: float | None = None  # median over repeats of each repeat's own ratio
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    dispatch_p50_ms: float | None = None
    frame_age_p50_ms: float | None = None
    frame_age_p99_ms: float | None = None
    max_gap_ratio: float | None = None  # worst wait between services / the starvation bound
    max_turns_ratio: float | None = None  # the same wait counted in services, not seconds
    # Waits; over the bound in seconds; of those, spanning a stall; of all, spanning one.
    gaps_over_bound: list[int] | None = None
    # The same checks on the detector alone's own timings, served round robin at no cost.
    ideal_gap_ratio: float | None = None
    ideal_over_bound: list[int] | None = None  # waits; over the bound
    skipped: int = 0
    expired: int = 0
    per_image_ms: float | None = None
    processing_p50_ms: float | None = None  # decode + inference + decoding, in the worker
    added_p50_ms: float | None = None  # latency minus that frame's processing (light phase)
    runs: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


def _detector_loop(
    settings: Settings, images: Path, seconds: float, fps: float | None, out: Any, go: Any
) -> None:
    from is21.workers.detector import detectors_from_settings

    detectors = detectors_from_settings(settings)
    photos = [data for _name, data in load_photos(images)]
    for data in photos[:3]:  # warm-up
        for d in detectors:
            d.detect(data, settings.max_pixels)
    out.put("ready")
    # CLOCK_MONOTONIC: one clock for every process of the bench, so the parent can say
    # when to start (all processes at once; the paced one between the light phase's frames).
    start = go.get(timeout=600)  # the parent's go; it never waits that long
    time.sleep(max(0.0, start - time.monotonic()))
    count, times, starts = 0, [], []
    end = start + seconds
    while (t0 := time.monotonic()) < end:
        for d in detectors:
            d.detect(photos[count % len(photos)], settings.max_pixels)
        times.append((time.monotonic() - t0) * 1000)
        starts.append(t0)
        count += 1
        if fps is not None:  # paced like the light fleet phase: caches go cold between
            time.sleep(max(0.0, start + count / fps - time.monotonic()))
    out.put((count, statistics.median(times), percentile(times, 99), (start + end) / 2, starts))


@dataclass
class AloneRun:
    rate: float  # images/s over all processes
    per_image_ms: float  # median
    p99_ms: float
    at: float  # time.monotonic() at the middle of the measured window
    starts: list[list[float]] = field(default_factory=list)  # each process's images'


class DetectorAlone:
    """The detector alone in ``workers`` processes (``fps`` paces each), loaded and warm
    on construction; ``start(at)`` sets them off together at ``at`` (time.monotonic())."""

    def __init__(
        self, settings: Settings, images: Path, workers: int, seconds: float, fps: float | None
    ) -> None:
        ctx = mp.get_context("spawn")
        self.seconds, self.out, self.go = seconds, ctx.Queue(), ctx.Queue()
        self.procs = [
            ctx.Process(
                target=_detector_loop, args=(settings, images, seconds, fps, self.out, self.go)
            )
            for _ in range(workers)
        ]
        for p in self.procs:
            p.start()
        for _ in self.procs:
            self.out.get(timeout=120)  # "ready"

    def start(self, at: float) -> None:
        for _ in self.procs:
            self.go.put(at)

    def result(self) -> AloneRun:
        results = [self.out.get(timeout=self.seconds + 120) for _ in self.procs]
        for p in self.procs:
            p.join()
        return AloneRun(
            sum(r[0] for r in results) / self.seconds,
            statistics.median(r[1] for r in results),
            max(r[2] for r in results),
            statistics.mean(r[3] for r in results),
            [r[4] for r in results],
        )


def detector_alone(settings: Settings, images: Path, workers: int, seconds: float) -> AloneRun:
    run = DetectorAlone(settings, images, workers, seconds, None)
    run.start(time.monotonic())
    return run.result()


def ceiling_at(at: float, before: AloneRun, after: AloneRun) -> float:
    """The detector alone's rate at time ``at``, interpolated between the runs measured
    before and after it: within one repeat the VM's speed drifts by as much as the
    margin measured, and linear drift cancels out this way."""
    if after.at <= before.at:
        return (before.rate + after.rate) / 2
    w = min(max((at - before.at) / (after.at - before.at), 0.0), 1.0)
    return before.rate + (after.rate - before.rate) * w


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
) -> FleetRun:
    """Flat out (fps None): a camera gets its next frame as soon as its result is out, so
    every camera always has a frame waiting once cameras > workers. Light: each camera
    submits at ``fps`` and waits for nothing."""
    names = [f"bench-{tag}-{i:02d}" for i in range(cameras)]
    submitted_at: dict[str, float] = {}
    # Start after whatever earlier repeats left in these streams, and count deltas.
    positions = {keys.results(n): producer.stream_last_id(keys.results(n)) for n in names}
    before = {n: producer.client.hmget(keys.camera(n), "skipped", "expired") for n in names}
    latencies: list[float] = []
    added: list[float] = []
    results: list[Result] = []
    n = 0

    def submit(name: str) -> None:
        nonlocal n
        if naive is None:
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
        reply: Any = producer.client.xread(dict(positions), block=block)  # type: ignore[arg-type]
        for stream, entries in reply or []:
            positions[stream.decode()] = entries[-1][0].decode()
            name = stream.decode().removeprefix(keys.results(""))
            arrived = time.monotonic()
            if arrived >= measuring_from:
                got = [result_from_entry(f) for _i, f in entries]
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


def percentile(values: list[float], q: float) -> float | None:
    value = stats.percentile(values, q)
    return None if value is None else round(value, 2)


LIGHT_WARMUP = 1.0  # s: the light phase's first frame is not measured
STALL = 1.5  # a frame whose decode + inference took 1.5x its run's median


@dataclass
class Gap:
    """A camera's wait between two of its services, from one claim to the next."""

    start: float  # the first service's claim
    end: float  # the next one's claim
    idle_from: float  # the first service's result out ...
    idle_to: float  # ... until the next frame was stored: no frame, so no wait

    @property
    def seconds(self) -> float:
        return self.end - self.start - max(0.0, self.idle_to - self.idle_from)


def gaps(results: list[Result]) -> list[Gap]:
    """Every camera's waits between two services. Time the camera had no frame (its result
    out, the driver's next frame not yet stored) is not waiting and is left out."""
    by_cam: dict[str, list[Result]] = {}
    for r in results:
        if r.claimed_at is not None and r.published_at is not None:
            by_cam.setdefault(r.camera_id, []).append(r)
    out = []
    for served in by_cam.values():
        served.sort(key=lambda r: r.seq)
        for a, b in pairwise(served):
            assert a.claimed_at and a.published_at and b.claimed_at
            end = b.claimed_at.timestamp()
            out.append(
                Gap(
                    a.claimed_at.timestamp(),
                    end,
                    a.published_at.timestamp(),
                    end - b.queue_ms / 1000,
                )
            )
    return out


def gap_bound(results: list[Result], cameras: int, workers: int) -> float:
    """The no-starvation bound in seconds: ceil(cameras / workers) x 1.2 service times,
    a service time being the median of each worker's claim-to-claim intervals (not the
    fleet's interval x workers: two workers claiming nearly together make the fleet's
    intervals alternate short and long, and their median is neither)."""
    claims: dict[str, list[float]] = {}
    for r in results:
        if r.claimed_at is not None:
            claims.setdefault(r.worker, []).append(r.claimed_at.timestamp())
    return _bound(list(claims.values()), cameras, workers)


def _bound(services: list[list[float]], cameras: int, workers: int) -> float:
    intervals = [b - a for times in services for a, b in pairwise(sorted(times))]
    if not intervals:
        return 0.0
    return math.ceil(cameras / workers) * 1.2 * statistics.median(intervals)


def max_gap_ratio(results: list[Result], cameras: int, workers: int) -> float | None:
    """Worst time between two services of a camera, over the no-starvation bound."""
    waits, bound = gaps(results), gap_bound(results, cameras, workers)
    if not waits or bound <= 0:
        return None
    return round(max(g.seconds for g in waits) / bound, 3)


def gaps_over_bound(results: list[Result], cameras: int, workers: int) -> tuple[int, int, int, int]:
    """Whether the waits too long in seconds are the machine's stalls: (waits, waits over
    the bound, how many of those spanned a stalled frame, how many of all waits did). A
    frame stalled if its decode + inference took over STALL x its run's median. With the
    order fair, a wait crosses the bound in seconds when frames it spans stall; by chance
    it would span one as often as any wait does."""
    waits, bound = gaps(results), gap_bound(results, cameras, workers)
    timed = [r for r in results if r.claimed_at is not None]
    if not waits or bound <= 0:
        return len(waits), 0, 0, 0
    slow_ms = STALL * statistics.median(r.processing_ms for r in timed)
    stalls = []
    for r in timed:
        if r.processing_ms > slow_ms:
            assert r.claimed_at is not None
            began = r.claimed_at.timestamp() + r.held_ms / 1000
            stalls.append((began, began + r.processing_ms / 1000))

    def spans_stall(g: Gap) -> bool:
        return any(s < g.end and e > g.start for s, e in stalls)

    over = [g for g in waits if g.seconds > bound]
    return len(waits), len(over), sum(map(spans_stall, over)), sum(map(spans_stall, waits))


def ideal_wait_ratios(starts: list[list[float]], cameras: int, workers: int) -> list[float]:
    """The starvation check in seconds for a scheduler that costs nothing, on the
    detector alone's own timings (``starts``: each process's image start times): the
    cameras served round robin in the order the processes started images, each wait
    over the same bound as the fleet's. What the machine's own stalls put over the
    bound; the fleet's waits are read against it."""
    merged = sorted(t for times in starts for t in times)
    bound = _bound(starts, cameras, workers)
    if len(merged) <= cameras or bound <= 0:
        return []
    return [(b - a) / bound for a, b in zip(merged, merged[cameras:], strict=False)]


def max_turns_ratio(results: list[Result], cameras: int, workers: int) -> float | None:
    """The starvation check counted in services instead of seconds: the most frames the
    fleet served between two services of one camera, over workers x the bound. A stall
    of the machine (one inference taking 3x its median) lengthens the wait in seconds
    but not in turns: this says whether the order is fair, the other whether the
    machine kept up."""
    claims = sorted(r.claimed_at.timestamp() for r in results if r.claimed_at)
    waits = gaps(results)
    if not waits:
        return None
    worst = 0
    for g in waits:
        turns = bisect_left(claims, g.end) - bisect_right(claims, g.start)
        if g.idle_to > g.idle_from:  # services while the camera had no frame: no wait
            turns -= bisect_left(claims, g.idle_to) - bisect_right(claims, g.idle_from)
        worst = max(worst, turns)
    return round(worst / workers / (math.ceil(cameras / workers) * 1.2), 3)


def heartbeats(producer: FrameProducer, workers: list[str]) -> list[dict[str, Any]]:
    beats = []
    for w in workers:
        raw: Any = producer.client.get(keys.heartbeat(w))
        if raw:
            beats.append(json.loads(raw))
    return beats


def frames_stored(producer: FrameProducer) -> int:
    """Bytes of JPEG the frame streams hold right now: frames kept x cameras x mean size."""
    total = 0
    for cam in producer.cameras():
        entries: Any = producer.client.xrange(keys.frames(cam))
        total += sum(len(f.get(b"jpeg", b"")) for _i, f in entries)
    return total


def run_bench(
    settings: Settings,
    *,
    images: Path,
    workers: int,
    cameras: list[int],
    seconds: float,
    repeats: int = 3,
    warmup: float = 2.0,
) -> dict[str, Any]:
    photos = [data for _name, data in load_photos(images)]
    alone: list[tuple[AloneRun, AloneRun]] = []  # each repeat's, before and after the fleet
    flat: dict[int, list[FleetRun]] = {c: [] for c in cameras}
    light: list[FleetRun] = []
    paced: list[float] = []  # the detector alone at the light phase's 1 image/s
    naive: list[FleetRun] = []
    memory: Any = None
    stored = 0
    with ExitStack() as stack:
        fleet = stack.enter_context(
            local_fleet(settings, workers=workers, prefix="bench", private=True)
        )
        url, log_dir, producer = fleet.url, fleet.log_dir, fleet.producer
        naive_procs = [
            subprocess.Popen(
                [sys.executable, "-m", "is21.ops.naive_baseline"],
                env={**os.environ, "IS21_REDIS_URL": url},
                stdout=subprocess.DEVNULL,
                stderr=(log_dir / "naive.log").open("wb"),
            )
            for _ in range(workers)
        ]
        stack.callback(stop_workers, naive_procs)
        naive_queue = Queue(NAIVE_QUEUE, connection=producer.client, serializer=JSONSerializer)
        for _ in range(repeats):
            # Half the detector's time before the phases compared with it, half after.
            before = detector_alone(settings, images, workers, seconds / 2)
            for c in cameras:
                flat[c].append(drive(producer, photos, c, seconds, warmup, None, f"{c}"))
            if memory is None:  # the fleet's own keys, before any naive job adds its own
                memory = producer.client.info("memory")
                stored = frames_stored(producer)
            naive.append(
                drive(producer, photos, max(cameras), seconds, warmup, None, "naive", naive_queue)
            )
            alone.append((before, detector_alone(settings, images, workers, seconds / 2)))
            # The detector alone at the light phase's 1 image/s, in the same seconds: half a
            # second after each of its frames, so the two never overlap but drift alike.
            alone_paced = DetectorAlone(settings, images, 1, seconds, fps=1.0)
            begin = time.monotonic() + 0.05
            alone_paced.start(begin + LIGHT_WARMUP + 0.5)
            time.sleep(max(0.0, begin - time.monotonic()))
            light.append(drive(producer, photos, 1, seconds, LIGHT_WARMUP, 1.0, "light"))
            paced.append(alone_paced.result().per_image_ms)
        names = [f"bench-{i}" for i in range(workers)]
        beats = heartbeats(producer, names)
    frames_1080p = [as_1080p(p) for p in photos]
    preprocess = compare_fresh(frames_1080p, Letterbox(416, 416, "BGR", "top-left"))

    alone_runs = [run for pair in alone for run in pair]
    per_image = statistics.median(a.per_image_ms for a in alone_runs)
    rows = [
        Row(
            "detector alone",
            0,
            workers,
            round(statistics.median((a.rate + b.rate) / 2 for a, b in alone), 2),
            per_image_ms=round(per_image, 2),
            runs=[round(a.rate, 2) for a in alone_runs],
        )
    ]
    for c, runs in [*flat.items(), (0, light), (-1, naive)]:
        rate = statistics.median(r.rate for r in runs)
        # Each repeat's fleet phase against the detector alone at that moment of the repeat.
        pairs = zip(runs, alone, strict=True)
        ratios = [] if c == 0 else [r.rate / ceiling_at(r.at, *a) for r, a in pairs]
        lat = [x for r in runs for x in r.latencies]
        res = [x for r in runs for x in r.results]
        # Age when its detection started: the wait to be claimed, then in hand.
        ages = [x.queue_ms + x.held_ms for x in res] if c >= 0 else []  # naive: no claim
        counts = [gaps_over_bound(r.results, c, workers) for r in runs] if c > 0 else []
        over_bound = [sum(x) for x in zip(*counts, strict=True)] if counts else None
        # The same check on the detector alone's timings: each repeat's two runs.
        ideal = [
            ideal_wait_ratios(a.starts, c, workers) + ideal_wait_ratios(b.starts, c, workers)
            for a, b in alone
            if c > 0
        ]
        rows.append(
            Row(
                {0: "fleet light 1fps", -1: "naive RQ per frame"}.get(c, "fleet flat out"),
                c if c > 0 else (1 if c == 0 else max(cameras)),
                workers,
                round(rate, 2),
                ratio=round(statistics.median(ratios), 3) if ratios else None,
                latency_p50_ms=percentile(lat, 50),
                latency_p99_ms=percentile(lat, 99),
                frame_age_p50_ms=percentile(ages, 50),
                processing_p50_ms=percentile([x.processing_ms for x in res], 50),
                added_p50_ms=percentile([x for r in runs for x in r.added], 50) if c == 0 else None,
                frame_age_p99_ms=percentile(ages, 99),
                max_gap_ratio=None
                if c <= 0
                else round(
                    statistics.median(
                        g for r in runs if (g := max_gap_ratio(r.results, c, workers)) is not None
                    ),
                    3,
                ),
                max_turns_ratio=None
                if c <= 0
                else round(
                    statistics.median(
                        t for r in runs if (t := max_turns_ratio(r.results, c, workers)) is not None
                    ),
                    3,
                ),
                gaps_over_bound=over_bound,
                ideal_gap_ratio=round(statistics.median(max(w) for w in ideal), 3)
                if ideal and all(ideal)
                else None,
                ideal_over_bound=[sum(map(len, ideal)), sum(x > 1 for w in ideal for x in w)]
                if ideal
                else None,
                skipped=sum(r.skipped for r in runs),
                expired=sum(r.expired for r in runs),
                runs=[round(r.rate, 2) for r in runs],
                ratios=[round(x, 3) for x in ratios],
            )
        )
    dispatch = [b["dispatch_ms_p50"] for b in beats if b.get("dispatch_ms_p50") is not None]
    return {
        "cores": os.cpu_count(),
        "workers": workers,
        "repeats": repeats,
        "seconds": seconds,
        "rows": [r.__dict__ for r in rows],
        "dispatch_p50_ms": round(statistics.median(dispatch), 3) if dispatch else None,
        "worker_rss_mb": [round(b["rss_bytes"] / 2**20, 1) for b in beats if b.get("rss_bytes")],
        "redis_used_memory_mb": round(int(memory.get("used_memory", 0)) / 2**20, 1),
        # The bound of the issue: frames kept x cameras x mean frame size x 1.25.
        "redis_memory_bound_mb": round(stored * 1.25 / 2**20, 1),
        "preprocess_1080p": preprocess,
        "light_load_target_ms": round(per_image + 3, 2),
        "paced_per_image_ms": round(statistics.median(paced), 2),
        "per_image_p99_ms": round(statistics.median(a.p99_ms for a in alone_runs), 2),
    }


def format_table(report: dict[str, Any]) -> str:
    def fmt(v: Any, unit: str = "") -> str:
        return "-" if v is None else f"{v}{unit}"

    lines = [
        f"cores: {report['cores']}   workers: {report['workers']}   repeats: "
        f"{report['repeats']} x {report['seconds']}s (medians; runs in brackets; the "
        "detector alone runs half its time before the flat-out and naive phases, half after)",
        f"{'phase':<17} {'cams':>4} {'results/s':>9} {'ratio':>6} {'lat p50':>9} "
        f"{'lat p99':>9} {'age p50':>8} {'age p99':>8} {'gap/bound':>9} {'turns':>6} "
        f"{'skipped':>7} {'expired':>7}  runs",
    ]
    for r in report["rows"]:
        lines.append(
            f"{r['phase']:<17} {r['cameras'] or '-':>4} {r['results_per_s']:>9} "
            f"{fmt(r['ratio']):>6} {fmt(r['latency_p50_ms'], 'ms'):>9} "
            f"{fmt(r['latency_p99_ms'], 'ms'):>9} {fmt(r['frame_age_p50_ms'], 'ms'):>8} "
            f"{fmt(r['frame_age_p99_ms'], 'ms'):>8} {fmt(r['max_gap_ratio']):>9} "
            f"{fmt(r['max_turns_ratio']):>6} "
            f"{r['skipped']:>7} {r['expired']:>7}  {r['runs']}"
            + (f" ratios {r['ratios']}" if r["ratios"] else "")
        )
    alone = report["rows"][0]
    light = next(r for r in report["rows"] if r["phase"] == "fleet light 1fps")
    lines += [
        f"detector alone: {alone['per_image_ms']} ms per image per process (p99 "
        f"{report['per_image_p99_ms']} ms: the machine's own stalls); light-load "
        f"target (that + 3 ms): {report['light_load_target_ms']} ms; in the light phase "
        f"the worker's own decode+inference p50 was {light['processing_p50_ms']} ms",
        f"detector alone paced at 1 image/s, half a second after each of the light "
        f"phase's frames (as cold, in the same seconds): {report['paced_per_image_ms']} ms "
        f"per image; that + 3 ms: {round(report['paced_per_image_ms'] + 3, 2)} ms",
        f"light phase, each frame's submit->result minus its own decode+inference (what "
        f"the fleet adds): p50 {light['added_p50_ms']} ms",
        "waits of a camera between two services over the bound in seconds: "
        + "; ".join(
            f"{r['cameras']} cams {over} of {n}, {stalled} of them spanning a frame that "
            f"stalled (over {STALL}x its run's median; {round(100 * spanned / n)} % of all "
            "waits did)"
            for r in report["rows"]
            if r["gaps_over_bound"] and r["cameras"] > 1
            for n, over, stalled, spanned in [r["gaps_over_bound"]]
        ),
        "the same on the detector alone's own timings (its processes' image starts, the "
        "cameras served round robin at no cost: what the machine's stalls alone put over "
        "the bound): "
        + "; ".join(
            f"{r['cameras']} cams {over} of {n} (worst per repeat, median: {r['ideal_gap_ratio']})"
            for r in report["rows"]
            if r["ideal_over_bound"] and r["cameras"] > 1
            for n, over in [r["ideal_over_bound"]]
        ),
        f"dispatch overhead per frame (workers' own p50): {report['dispatch_p50_ms']} ms",
        f"worker RSS: {report['worker_rss_mb']} MB   redis used_memory: "
        f"{report['redis_used_memory_mb']} MB (bound: frames kept x mean size x 1.25 = "
        f"{report['redis_memory_bound_mb']} MB)",
        *(
            f"1080p frame -> 416x416 input, {state} memory: reduced-scale decode "
            f"{pre['reduced_ms']} ms vs plain {pre['plain_ms']} ms (ratio {pre['ratio']})"
            for state, pre in report["preprocess_1080p"].items()
        ),
    ]
    return "\n".join(lines)
