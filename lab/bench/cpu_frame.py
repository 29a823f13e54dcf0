"""What the CPU must do for each NPU frame, in milliseconds, on the rknn input path.

On the RK3588 the NPU infers while the CPU decodes the next JPEG, letterboxes it to the
uint8 NHWC the NPU takes, decodes the last frame's outputs and makes the Redis round
trip. If that costs more than about a third of an inference (~14 ms per core for
yolox_nano int8 or yolov8n), the CPU, not the three NPU cores, sets the fleet's speed.
Each step is timed here on real photos re-encoded as 1080p and 720p camera frames, the
two JPEG decoders side by side in one run: simplejpeg (libjpeg-turbo's TurboJPEG API,
DCT scaling through ``min_width``; the fleet's path) and Pillow's ``draft``.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.protocol.functions import load_library
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.backends.onnx import OnnxBackend
from is21.workers.claims import Claim, ClaimScripts
from is21.workers.formats.yolox import STRIDES, YoloxRknnFormat
from is21.workers.image import Letterbox, Prepared, open_jpeg, prepare

SIZES = {"1080p": (1920, 1080), "720p": (1280, 720)}
LETTERBOX = YoloxRknnFormat((416, 416), 80).letterbox(416, 416)


def reencoded(jpeg: bytes, size: tuple[int, int]) -> bytes:
    """A sample photo as a camera frame of ``size`` (stretched, quality 90)."""
    img = Image.open(io.BytesIO(jpeg)).convert("RGB").resize(size, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def prepare_pillow_draft(data: bytes, box: Letterbox, max_pixels: int) -> Prepared:
    """The fleet's path before simplejpeg: Pillow's ``draft`` for the reduced decode."""
    img = open_jpeg(data, max_pixels)
    width, height = img.size
    scale = min(box.width / width, box.height / height)
    new_w, new_h = max(1, int(width * scale)), max(1, int(height * scale))
    img.draft("RGB", (new_w, new_h))
    rgb = img.convert("RGB")
    if rgb.size != (new_w, new_h):
        rgb = rgb.resize((new_w, new_h), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb)[..., ::-1] if box.channels == "BGR" else np.asarray(rgb)
    canvas = np.full((box.height, box.width, 3), box.pad_value, dtype=np.uint8)
    canvas[:new_h, :new_w] = pixels
    return Prepared(canvas, scale, 0, 0, width, height)


def split_head(out: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
    """The float model's one output as the NPU conversion's nine (per scale: box, obj,
    classes): the real values the yolox-rknn decoder reads on the board."""
    rows, parts, start = out[0], [], 0
    for stride in STRIDES:
        side = 416 // stride
        level = rows[start : start + side * side].T.reshape(85, side, side)[np.newaxis]
        parts += [level[:, 0:4], level[:, 4:5], level[:, 5:]]
        start += side * side
    return [np.ascontiguousarray(p) for p in parts]


def median_ms(fn: Callable[[Any], object], items: list[Any], rounds: int) -> float:
    per_round = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        per_round.append((time.perf_counter() - t0) * 1000 / len(items))
    return round(statistics.median(per_round), 3)


def round_trip_ms(frames: list[bytes], rounds: int) -> float:
    """The worker's one round trip per frame: publish the last result, claim and read
    the reserved camera's newest frame, reserve the next (the real Redis functions on a
    private redis-server over its unix socket)."""
    with EmbeddedRedis() as server:
        client = connect(server.url)
        load_library(client)
        settings = Settings(redis_url=server.url)
        producer, scripts = FrameProducer(client, settings), ClaimScripts(client, settings)
        job = "bench-job"
        for live in (keys.WORKERS, keys.ANSWERING):  # one live worker holding this job
            client.zadd(live, {"bench-worker": time.time() * 1000 + 3_600_000})
        client.zadd(keys.JOBS, {job: time.time() * 1000 + 3_600_000})
        cams = [f"cam{i}" for i in range(len(frames))]
        timings: list[float] = []
        for _ in range(rounds):
            for cam, jpeg in zip(cams, frames, strict=True):
                producer.submit(cam, jpeg)
            nxt = scripts.claim_ahead(job)
            while isinstance(nxt.claim, Claim):
                claim = nxt.claim
                result = Result(
                    camera_id=claim.camera_id, frame_id=claim.frame_id, seq=claim.seq, status="ok"
                )
                t0 = time.perf_counter()
                _, nxt = scripts.publish_and_claim(job, result, nxt.reserved)
                timings.append((time.perf_counter() - t0) * 1000)
        client.close()
    return round(statistics.median(timings), 3)


def measure(images: Path, model: Path, rounds: int = 5) -> dict[str, Any]:
    photos = [p.read_bytes() for p in sorted(images.glob("*.jpg"))]
    backend = OnnxBackend(model, threads=1)
    fmt = YoloxRknnFormat((416, 416), 80)
    report: dict[str, Any] = {"rounds": rounds, "frames": len(photos), "sizes": {}}
    for label, size in SIZES.items():
        frames = [reencoded(p, size) for p in photos]
        preps = [prepare(f, LETTERBOX, 10**9) for f in frames]
        heads = [split_head(backend.run(p.pixels)[0]) for p in preps]
        pillow, turbo = [], []
        for _ in range(rounds):  # interleaved: both decoders meet the same noise
            pillow.append(median_ms(lambda f: prepare_pillow_draft(f, LETTERBOX, 10**9), frames, 1))
            turbo.append(median_ms(lambda f: prepare(f, LETTERBOX, 10**9), frames, 1))
        pairs = list(zip(heads, preps, strict=True))
        decode = median_ms(lambda hp: fmt.decode(hp[0], hp[1], 0.3, 0.45), pairs, rounds)
        report["sizes"][label] = {
            "jpeg_kb": round(statistics.median(len(f) for f in frames) / 1024, 1),
            "pillow_draft_ms": round(statistics.median(pillow), 3),
            "simplejpeg_ms": round(statistics.median(turbo), 3),
            "output_decode_ms": decode,
            "redis_round_trip_ms": round_trip_ms(frames[:8], rounds),
        }
    backend.close()
    return report


def format_table(report: dict[str, Any], npu_ms: float = 14.0) -> str:
    lines = [
        "| frame | JPEG KB | decode+letterbox Pillow draft | simplejpeg | output decode | "
        "Redis round trip | CPU per frame (faster decoder) | NPU cores one core feeds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in report["sizes"].items():
        fastest = min(r["pillow_draft_ms"], r["simplejpeg_ms"])
        total = fastest + r["output_decode_ms"] + r["redis_round_trip_ms"]
        lines.append(
            f"| {label} | {r['jpeg_kb']} | {r['pillow_draft_ms']} | {r['simplejpeg_ms']} | "
            f"{r['output_decode_ms']} | {r['redis_round_trip_ms']} | {total:.2f} | "
            f"{npu_ms / total:.1f} |"
        )
    lines.append(
        f"\nmedians of {report['rounds']} interleaved rounds over {report['frames']} photos, "
        f"ms per frame on this host; an NPU core infers a frame in ~{npu_ms:.0f} ms"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    images, model = Path(sys.argv[1]), Path(sys.argv[2])
    print(format_table(measure(images, model)))
