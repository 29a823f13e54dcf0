"""Load: 30 cameras at 5 fps for 60 s against 2 workers, overloaded on purpose (150
frames/s offered, ~50/s of capacity). No errors, Redis memory bounded, every frame
accounted for."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import redis

from is21.producer import FrameProducer
from is21.schemas import codec, keys
from is21.schemas.results import Result
from tests.conftest import SAMPLES, Fleet, run_is21
from tests.helpers import counters, wait_settled

pytestmark = pytest.mark.slow  # ./scripts/test --quick leaves it out (README)


def test_thirty_cameras_at_five_fps_for_a_minute(
    fleet: Fleet, producer: FrameProducer, client: redis.Redis
) -> None:
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.5):
            memory: Any = client.info("memory")
            peak = max(peak, int(memory["used_memory"]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    args = ("replay", str(SAMPLES), "--cameras", "30", "--fps", "5", "--seconds", "60")
    out = run_is21(*args, env=fleet.env, timeout=180)
    done.set()
    sampler.join()
    assert out.returncode == 0, out.stderr
    offered = json.loads(out.stdout)["submitted"]
    cams = [f"cam{i:02d}" for i in range(30)]
    wait_settled(client, cams, timeout=60)

    totals = {k: 0 for k in ("submitted", "processed", "failed", "skipped", "expired")}
    for cam in cams:
        c = counters(client, cam)
        for k in totals:
            totals[k] += c.get(k, 0)
        entries: Any = client.xrange(keys.results(cam))
        statuses = {codec.decode(f[b"data"], Result).status for _i, f in entries}
        assert statuses == {"ok"}, (cam, statuses)
    assert totals["submitted"] == offered  # nothing fell back: every frame was stored
    assert offered >= 0.9 * 30 * 5 * 60, offered
    assert totals["failed"] == 0
    assert totals["submitted"] == sum(totals[k] for k in ("processed", "skipped", "expired"))
    assert totals["processed"] > 30 * 60 * 0.5  # the workers were busy all along

    # Frames are capped per camera; results are small. Bound: frames kept x cameras x
    # mean frame size x 1.25, plus 16 MB for results, events and RQ.
    mean = sum(p.stat().st_size for p in SAMPLES.glob("*.jpg")) / len(list(SAMPLES.glob("*.jpg")))
    bound = producer.settings.frame_maxlen * 30 * mean * 1.25 + 16 * 2**20
    assert peak <= bound, (peak, bound)
    print(f"load: {totals}, peak redis {peak / 2**20:.0f} MB of bound {bound / 2**20:.0f} MB")
