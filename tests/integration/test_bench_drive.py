"""The bench's driver leaves no phase's frames behind for the next phase to share cores
with, and counts the CPU its results cost the fleet."""

from __future__ import annotations

import os

from is21.lab.bench.cpu_seconds import fleet_cpu
from is21.lab.bench.drive import drive
from is21.producer import FrameProducer
from is21.producer.replay import load_photos
from is21.schemas import keys
from tests.conftest import SAMPLES, Fleet


def test_a_flat_out_drive_returns_once_the_fleet_has_served_every_waiting_frame(
    producer: FrameProducer, fleet: Fleet
) -> None:
    photos = [data for _name, data in load_photos(SAMPLES)]
    cpu = fleet_cpu([p.pid for p in fleet.procs], producer.client)
    run = drive(producer, photos, 6, 1.0, 0.0, None, "settle", cpu=cpu)
    assert run.results, fleet.logs()
    # Each result cost the workers at least a model's inference (~10-40 ms here), and all
    # of them together no more than the machine's cores had in the 1 s window (and a
    # clock tick a process: /proc counts in ticks).
    assert run.cpu_ms is not None and run.cpu_ms > 5, run.cpu_ms
    assert run.cpu_ms * len(run.results) <= 1000 * (os.cpu_count() or 1) + 30, run.cpu_ms
    # Flat out, each of the 6 cameras had a frame waiting when the driver stopped.
    assert producer.client.zcard(keys.READY) == 0
    assert producer.client.zcard(keys.LEASES) == 0
    for i in range(6):
        camera = producer.client.hmget(
            keys.camera(f"bench-settle-{i:02d}"), "last_seq", "published_seq"
        )
        assert camera[0] is not None and camera[0] == camera[1], camera
