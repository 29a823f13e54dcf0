"""Tracks across frames at the fleet's frame rates (issue 31): 0.2 to 5 fps, frames
skipped, a walking person moving more than a box width between two frames."""

from __future__ import annotations

from is21.schemas.results import Detection
from is21.workers.track import Track, TrackRules, TrackState
from is21.workers.track.centroid import MAX_TRACKS, CentroidTracker, distance

PERSON_W, PERSON_H = 50.0, 120.0  # a pedestrian at a surveillance camera's distance


def person(x: float, y: float = 300.0, score: float = 0.9, label: str = "person") -> Detection:
    return Detection(label=label, score=score, box=(x, y, x + PERSON_W, y + PERSON_H))


def run(
    frames: list[tuple[float, list[Detection]]], rules: TrackRules | None = None
) -> list[Track]:
    tracker, tracks, next_id = CentroidTracker(rules), list[Track](), 1
    history: list[Track] = []
    for at, detections in frames:
        tracks, next_id = tracker.update(tracks, detections, at, next_id)
        history += [t for t in tracks if t not in history]
    return history


def test_a_walker_at_1_fps_keeps_one_track_where_boxes_never_overlap() -> None:
    # 1.4 m/s, a box about 0.6 m wide: 1.2 box widths a second, no overlap between frames.
    frames = [(float(t), [person(100 + 60 * t)]) for t in range(12)]
    assert distance(person(100).box, person(160).box) < 2.5
    (track,) = run(frames)
    assert track.id == 1 and track.confirmed and track.ever_moved
    assert track.first_seen == 0 and track.last_seen == 11


def test_a_slow_camera_and_skipped_frames_do_not_cut_a_track() -> None:
    """0.2 fps: five seconds between frames, the walker 6 box widths further each time."""
    frames = [(5.0 * k, [person(100 + 300 * k)]) for k in range(5)]
    assert len(run(frames, TrackRules(end_after=15))) == 1


def test_two_people_crossing_keep_their_tracks() -> None:
    frames = [(float(t), [person(100 + 40 * t, 300), person(500 - 40 * t, 330)]) for t in range(10)]
    left, right = run(frames)
    assert left.box[0] == 100 + 40 * 9 and right.box[0] == 500 - 40 * 9


def test_a_box_that_jumps_does_not_fling_its_track_across_the_frame() -> None:
    """At 20 fps a jump of 100 px between two frames reads as 2000 px/s: held to a
    walker's pace, the track is not predicted onto what is detected 300 px on."""
    walk = [(0.05 * k, [person(100 + 2 * k)]) for k in range(3)] + [(0.15, [person(204)])]
    signpost = (0.3, [person(504)])  # where 2000 px/s would have put the walker
    walker, *others = run([*walk, signpost])
    assert walker.box == person(204).box and [t.box for t in others] == [person(504).box]


def test_labels_never_share_a_track() -> None:
    frames = [(float(t), [person(200 + t), person(200 + t, label="dog")]) for t in range(4)]
    assert sorted(t.label for t in run(frames)) == ["dog", "person"]


def test_a_single_weak_detection_is_not_tracked_and_one_strong_is_not_believed() -> None:
    assert run([(0.0, [person(100, score=0.4)])]) == []
    (once,) = run([(0.0, [person(100, score=0.95)])])
    assert not once.confirmed  # one hit: pending
    (weak,) = run([(float(t), [person(100 + 10 * t, score=0.6)]) for t in range(5)])
    assert not weak.confirmed  # its median score stays under 0.7


def test_something_that_never_moves_becomes_stationary_and_never_moved() -> None:
    rules = TrackRules()
    tracker = CentroidTracker(rules)
    tracks, next_id = list[Track](), 1
    for t in range(15):
        tracks, next_id = tracker.update(tracks, [person(400, score=0.85)], float(t), next_id)
    (car,) = tracks
    assert car.state(14.0, rules) is TrackState.STATIONARY and not car.ever_moved
    walker = run([(float(t), [person(100 + 60 * t)]) for t in range(5)])[0]
    assert walker.state(4.0, rules) is TrackState.ACTIVE


def test_a_track_ends_after_its_seconds_without_a_detection_and_a_new_one_starts() -> None:
    rules = TrackRules(end_after=15)
    tracker = CentroidTracker(rules)
    tracks, next_id = tracker.update([], [person(100)], 0.0, 1)
    tracks, next_id = tracker.update(tracks, [person(130)], 1.0, next_id)  # confirmed
    tracks, next_id = tracker.update(tracks, [], 11.0, next_id)
    assert tracks[0].state(11.0, rules) is TrackState.ACTIVE  # unseen 10 s: not yet over
    assert tracks[0].state(16.1, rules) is TrackState.ENDED
    tracks, next_id = tracker.update(tracks, [person(130)], 17.0, next_id)
    assert [t.id for t in tracks] == [2] and next_id == 3


def test_a_candidate_the_next_frame_does_not_extend_is_forgotten() -> None:
    """Clutter, or a glimpse: gone at the camera's next frame, whenever that comes (a
    camera at 0.2 fps waits its 5 s), and a person missed once is believed two frames on."""
    rules = TrackRules()
    tracker = CentroidTracker(rules)
    tracks, next_id = tracker.update([], [person(100, score=0.9)], 0.0, 1)
    assert tracks[0].state(5.0, rules) is TrackState.PENDING  # a camera at 0.2 fps: wait
    assert tracks[0].state(6.5, rules) is TrackState.ENDED  # not end_after (30 s)
    tracks, next_id = tracker.update(tracks, [person(110)], 5.0, next_id)
    assert [t.id for t in tracks] == [1] and tracks[0].confirmed  # 5 s on: extended
    tracks, next_id = tracker.update(tracks, [person(400)], 6.0, next_id)  # far: a new one
    tracks, next_id = tracker.update(tracks, [], 7.0, next_id)
    assert [t.id for t in tracks] == [1]  # the candidate missed a frame: gone
    walker = [(0.0, [person(500)]), (1.0, []), (2.0, [person(560)]), (3.0, [person(620)])]
    assert [(t.id, t.confirmed) for t in run(walker)] == [(1, False), (2, True)]


def test_a_crowd_keeps_the_record_bounded() -> None:
    tracker, tracks, next_id = CentroidTracker(), list[Track](), 1
    for t in range(20):  # 20 newcomers a second, scattered, each believed, then gone
        crowd = [person(37.0 * k + 2000 * t, 50.0 * (k % 9)) for k in range(20)]
        for at in (t, t + 0.5):
            tracks, next_id = tracker.update(tracks, crowd, at, next_id)
    assert len(tracks) == MAX_TRACKS and all(t.confirmed for t in tracks)
    assert max(t.last_seen for t in tracks) == 19.5  # the ones dropped: those unseen longest
