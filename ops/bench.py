"""``is21 bench``: the detector alone and the fleet, side by side in one run.

The detector alone (decode, preprocess, infer, decode outputs; no Redis, no RQ) is the
ceiling; the fleet's results/s is reported as a ratio of it, measured on the same
photos, model and thread settings, one phase after the other on the same machine.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ops.demo import start_workers, stop_workers, wait_for_workers
from ops.embedded_redis import EmbeddedRedis
from producer import FrameProducer
from producer.replay import load_photos
from schemas import keys
from schemas.settings import Settings


@dataclass
class Row:
    phase: str
    cameras: int
    workers: int
    results_per_s: float
    ratio: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    dispatch_p50_ms: float | None = None
    skipped: int = 0
    expired: int = 0


def _detector_loop(settings: Settings, images: Path, seconds: float, out: Any) -> None:
    from workers.detector import Timings, detectors_from_settings

    detectors = detectors_from_settings(settings)
    photos = [data for _name, data in load_photos(images)]
    for data in photos[:3]:  # warm-up
        for d in detectors:
            d.detect(data, settings.max_pixels)
    count, timings = 0, Timings()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for d in detectors:
            d.detect(photos[count % len(photos)], settings.max_pixels, timings)
        count += 1
    out.put((count, asdict(timings)))


def detector_alone(settings: Settings, images: Path, workers: int, seconds: float) -> Row:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_detector_loop, args=(settings, images, seconds, out))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    total = sum(count for count, _ in results)
    return Row("detector alone", 0, workers, round(total / seconds, 2))


def fleet_flat_out(
    producer: FrameProducer, photos: list[bytes], cameras: int, seconds: float, warmup: float
) -> tuple[int, list[float], dict[str, int]]:
    """Keep every camera supplied: a camera gets its next frame as soon as its result is out."""
    names = [f"bench-{cameras}-{i:02d}" for i in range(cameras)]
    submitted_at: dict[str, float] = {}
    positions = {keys.results(n): "0-0" for n in names}
    latencies: list[float] = []
    count, n = 0, 0
    for name in names:
        producer.submit(name, photos[n % len(photos)])
        submitted_at[name] = time.perf_counter()
        n += 1
    start = time.perf_counter()
    measuring_from = start + warmup
    end = measuring_from + seconds
    while (now := time.perf_counter()) < end:
        reply: Any = producer.client.xread(dict(positions), block=100)  # type: ignore[arg-type]
        for stream, entries in reply or []:
            positions[stream.decode()] = entries[-1][0].decode()
            name = stream.decode().removeprefix(keys.results(""))
            if now >= measuring_from:
                count += len(entries)
                latencies.append((time.perf_counter() - submitted_at[name]) * 1000)
            producer.submit(name, photos[n % len(photos)])
            submitted_at[name] = time.perf_counter()
            n += 1
    totals = {"skipped": 0, "expired": 0}
    for name in names:
        raw: Any = producer.client.hmget(keys.camera(name), "skipped", "expired")
        totals["skipped"] += int(raw[0] or 0)
        totals["expired"] += int(raw[1] or 0)
    return count, latencies, totals


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)


def dispatch_p50(producer: FrameProducer, workers: list[str]) -> float | None:
    import json

    values = []
    for w in workers:
        raw: Any = producer.client.get(keys.heartbeat(w))
        if raw and (v := json.loads(raw).get("dispatch_ms_p50")) is not None:
            values.append(v)
    return round(statistics.median(values), 3) if values else None


def run_bench(
    settings: Settings,
    *,
    images: Path,
    workers: int,
    cameras: list[int],
    seconds: float,
    warmup: float = 2.0,
) -> list[Row]:
    rows = [detector_alone(settings, images, workers, seconds)]
    ceiling = rows[0].results_per_s
    photos = [data for _name, data in load_photos(images)]
    with ExitStack() as stack:
        url = settings.redis_url or stack.enter_context(EmbeddedRedis()).url
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="is21-bench-")))
        producer = FrameProducer.from_url(url, settings)
        producer.client.flushdb()
        os.environ.setdefault("IS21_INTRA_OP_THREADS", str(settings.intra_op_threads))
        procs = start_workers(url, workers, log_dir, prefix="bench")
        stack.callback(stop_workers, procs)
        wait_for_workers(producer, procs, log_dir)
        for c in cameras:
            count, latencies, totals = fleet_flat_out(producer, photos, c, seconds, warmup)
            rate = round(count / seconds, 2)
            rows.append(
                Row(
                    "fleet flat out",
                    c,
                    workers,
                    rate,
                    ratio=round(rate / ceiling, 3) if ceiling else None,
                    latency_p50_ms=percentile(latencies, 50),
                    latency_p99_ms=percentile(latencies, 99),
                    dispatch_p50_ms=dispatch_p50(producer, [f"bench-{i}" for i in range(workers)]),
                    **totals,
                )
            )
    return rows


def format_table(rows: list[Row]) -> str:
    head = (
        f"{'phase':<16} {'cams':>4} {'wkrs':>4} {'results/s':>9} {'ratio':>6} "
        f"{'lat p50':>8} {'lat p99':>8} {'dispatch p50':>12} {'skipped':>7} {'expired':>7}"
    )
    lines = [f"cores: {os.cpu_count()}", head]

    def fmt(v: float | None, unit: str = "") -> str:
        return "-" if v is None else f"{v}{unit}"

    for r in rows:
        lines.append(
            f"{r.phase:<16} {r.cameras or '-':>4} {r.workers:>4} {r.results_per_s:>9} "
            f"{fmt(r.ratio):>6} {fmt(r.latency_p50_ms, 'ms'):>8} {fmt(r.latency_p99_ms, 'ms'):>8} "
            f"{fmt(r.dispatch_p50_ms, 'ms'):>12} {r.skipped:>7} {r.expired:>7}"
        )
    return "\n".join(lines)
