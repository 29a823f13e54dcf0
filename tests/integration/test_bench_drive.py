"""The bench's driver leaves no phase's frames behind for the next phase to share cores with."""

from __future__ import annotations

from is21.lab.bench.drive import drive
from is21.producer import FrameProducer
from is21.producer.replay import load_photos
from is21.schemas import keys
from tests.conftest import SAMPLES, Fleet


def test_a_flat_out_drive_returns_once_the_fleet_has_served_every_waiting_frame(
    producer: FrameProducer, fleet: Fleet
) -> None:
    photos = [data for _name, data in load_photos(SAMPLES)]
    run = drive(producer, photos, 6, 1.0, 0.0, None, "settle")
    assert run.results, fleet.logs()
    # Flat out, each of the 6 cameras had a frame waiting when the driver stopped.
    assert producer.client.zcard(keys.READY) == 0
    assert producer.client.zcard(keys.LEASES) == 0
    for i in range(6):
        camera = producer.client.hmget(
            keys.camera(f"bench-settle-{i:02d}"), "last_seq", "published_seq"
        )
        assert camera[0] is not None and camera[0] == camera[1], camera
