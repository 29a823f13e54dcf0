"""One incident per presence, not one event per frame (issue 31): the lifecycle on tracks
made by the real tracker from synthetic sequences, at 1 fps."""

from __future__ import annotations

import itertools
from typing import Any

from is21.schemas import codec
from is21.schemas.events import DEFAULT_SCHEMA, EventSchema
from is21.schemas.results import Detection
from is21.workers.incidents.follow import camera_rules
from is21.workers.incidents.lifecycle import Frame, Incident, due, step
from is21.workers.incidents.state import CameraState
from is21.workers.track import Track
from is21.workers.track.centroid import CentroidTracker

KINDS = {"person": "human", "dog": "animal"}
SIZE = (768, 576)


def person(x: float, y: float = 300.0, w: float = 50.0, h: float = 120.0) -> Detection:
    return Detection(label="person", score=0.9, box=(x, y, x + w, y + h))


class Camera:
    """A camera's tracker and incidents, fed one frame a second."""

    def __init__(self) -> None:
        self.tracker, self.tracks, self.next_id = CentroidTracker(), list[Track](), 1
        self.incidents: dict[str, Incident] = {}
        self.messages: list[dict[str, Any]] = []
        self.sent_at: list[float] = []  # the frame time each message came with

    def frame(self, at: float, detections: list[Detection]) -> list[dict[str, Any]]:
        self.tracks, self.next_id = self.tracker.update(self.tracks, detections, at, self.next_id)
        out = step(
            self.incidents, Frame("door", f"{int(at * 1000)}-0", at, self.tracks, SIZE), KINDS
        )
        self.messages += out
        self.sent_at += [at] * len(out)
        return out

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


def test_a_walk_past_is_one_new_and_one_end_30_s_after() -> None:
    cam = Camera()
    for t in range(20):  # 20 s in view, 20 frames that each were an "event" before
        cam.frame(float(t), [person(100 + 25 * t)])
    for t in range(20, 60):
        cam.frame(float(t), [])
    assert cam.types() == ["new", "end"]
    new, end = cam.messages
    assert new["kind"] == "human" and new["id"] == end["id"] == "door:human:2000"
    assert new["before"] is None and new["after"]["start"] == 0.0  # the first sighting
    assert end["before"] == new["after"]  # what changed, as Frigate's events tell it
    assert end["after"]["end"] == 19.0  # the last frame with the person
    assert end["after"]["tracks"][0]["last_seen"] == 19.0 and len(end["after"]["tracks"]) == 1
    # new once confirmed and moved half a box (2 s at a stroll); end end_after (30 s) after
    # the last sighting
    assert cam.sent_at == [2.0, 49.0]


def test_something_that_never_moves_raises_no_incident() -> None:
    cam = Camera()
    for t in range(300):  # a poster of a person, five minutes
        cam.frame(float(t), [person(400)])
    assert cam.messages == []


def test_a_newcomer_and_a_stop_are_updates_and_a_standing_person_does_not_keep_it_open() -> None:
    cam = Camera()
    for t in range(10):
        cam.frame(float(t), [person(100 + 25 * t)])
    for t in range(10, 20):  # a second person walks in
        cam.frame(float(t), [person(100 + 25 * t), person(600 - 25 * (t - 10), 100)])
    for t in range(20, 80):  # the first stops at the door; the second has left
        cam.frame(float(t), [person(100 + 25 * 19)])
    assert cam.types()[:2] == ["new", "update"]  # the second person joined
    stops = [m for m in cam.messages[2:] if m["type"] == "update"]
    assert len(stops) == 1  # the first person standing still: said once, not again
    assert cam.types()[-1] == "end"  # standing still does not keep it open
    assert cam.types().count("new") == 1


def test_a_long_presence_sends_an_update_at_most_every_minute() -> None:
    cam = Camera()
    for t in range(200):  # pacing back and forth for over three minutes
        cam.frame(float(t), [person(100 + 25 * (t % 20 if t // 20 % 2 == 0 else 20 - t % 20))])
    assert cam.types() == ["new", "update", "update", "update"]  # at 60, 120, 180 s


def test_a_crowd_is_told_in_an_update_every_5_s_not_one_a_frame() -> None:
    cam = Camera()
    for t in range(30):  # someone new walks in every second, each in a lane of their own
        cam.frame(float(t), [person(20 + 25 * (t - k), y=40 + 45 * k) for k in range(t % 10 + 1)])
    updates = [at for at, m in zip(cam.sent_at, cam.messages, strict=True) if m["type"] == "update"]
    assert updates and all(b - a >= 5 for a, b in itertools.pairwise(updates))
    record = cam.messages[-1]["after"]
    assert len(record["tracks"]) <= 16 and record["track_count"] >= len(record["tracks"])


def test_a_camera_gone_silent_is_ended_by_the_sweep() -> None:
    cam = Camera()
    for t in range(5):
        cam.frame(float(t), [person(100 + 25 * t)])
    assert due(cam.incidents, 20.0) == []  # within end_after
    (end,) = due(cam.incidents, 34.0)
    assert end["type"] == "end" and end["after"]["end"] == 4.0 and cam.incidents == {}


def test_messages_tell_the_cameras_time_where_frames_carry_it() -> None:
    incidents: dict[str, Incident] = {}
    tracker, tracks, next_id, out = CentroidTracker(), list[Track](), 1, []
    for t in range(4):  # the camera's clock runs 3600.5 s ahead of Redis's
        tracks, next_id = tracker.update(tracks, [person(100 + 25 * t)], float(t), next_id)
        frame = Frame("door", f"{t}000-0", float(t), tracks, SIZE, offset=3600.5)
        out += step(incidents, frame, KINDS)
    (new,) = out
    assert new["after"]["start"] == 3600.5 and new["after"]["tracks"][0]["last_seen"] == 3602.5
    assert new["id"] == "door:human:2000"  # Redis's clock: the one that orders the frames


def test_the_best_frame_is_not_cut_off_by_the_edge() -> None:
    cam = Camera()
    cam.frame(0.0, [person(100, y=300, w=60, h=150)])
    cam.frame(1.0, [person(160, y=300, w=60, h=150)])  # confirmed, moved: the incident opens
    cam.frame(2.0, [person(230, y=380, w=80, h=200)])  # larger, but cut by the bottom edge
    cam.frame(3.0, [person(300, y=300, w=50, h=120)])  # whole, smaller
    best = cam.incidents["human"].best
    assert best is not None and best.frame_id == "1000-0" and best.box[0] == 160


def test_the_camera_state_keeps_an_incident_whole_across_its_record() -> None:
    """The state read with each claim gives back what the last frame left, down to the
    record the next message's ``before`` is; one written before that record was kept
    packed (a map, not bytes) is read too, so no open incident loses its ``end``."""
    cam = Camera()
    for t in range(4):
        cam.frame(float(t), [person(100 + 25 * t)])
    (new,) = cam.messages
    state = CameraState(cam.tracks, cam.next_id, cam.incidents)
    raw = codec.unpackb(state.encode())
    (incident,) = raw["incidents"]
    incident["sent"] = codec.unpackb(incident["sent"])  # as records were written before
    for data in (state.encode(), codec.packb(raw)):
        back = CameraState.decode(data)
        assert [vars(t) for t in back.tracks] == [vars(t) for t in cam.tracks]
        (end,) = due(back.incidents, 60.0)
        assert end["type"] == "end" and end["before"] == new["after"]


def test_a_schema_s_camera_rules_apply_from_its_first_frame() -> None:
    """Worked out once a schema, not once a frame, and never carried over to another
    schema, even one of the same version."""
    before = DEFAULT_SCHEMA
    after = EventSchema.model_validate(
        {**before.model_dump(), "cameras": {"door": {"tracking": {"end_after": 5}}}}
    )
    assert after.version == before.version
    assert camera_rules(before, "door").track.end_after == 30
    assert camera_rules(after, "door").track.end_after == 5
    assert camera_rules(after, "yard").track.end_after == 30
    assert camera_rules(before, "door").track.end_after == 30
