"""A camera's incidents as its tracks evolve: pure, so that every rule can be tested on
sequences of tracks and times without Redis, workers or frames.

Frigate's lessons, from its users' complaints: an object that never moved (a parked car,
a poster) raises no incident; one that stops moving is not announced again and does not
keep an incident open (cars parked for hours); the end comes ``end_after`` after the
last sighting of a moving object of the kind (30 s: Frigate cut its 120 s to 30-40 s
because passing cars kept alerts alive), the same timer that ends a track. Between, an
``update`` when a new object joins or one stops or starts moving, and otherwise at most
every ``update_every`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from is21.schemas import codec, keys
from is21.workers.track import Box, Track, TrackRules, TrackState

EDGE_PX = 2.0  # a box this close to the frame's border is cut off: not the best picture
MAX_TRACKS = 16  # tracks an incident's record lists (the latest seen); track_count counts all
# Changes closer together than this are told in one update: a crowd (or clutter) that
# brings a new track every frame makes an update every 5 s, not one a frame.
UPDATE_GAP = 5.0


@dataclass(frozen=True)
class IncidentRules:
    update_every: float = 60.0  # an update at most this often when nothing changes


RULES, TRACK_RULES = IncidentRules(), TrackRules()


@dataclass
class Best:
    """The frame that shows the incident best: a high score, a large box, not cut off."""

    frame_id: str
    track: int
    score: float
    box: Box
    quality: float


@dataclass
class Incident:
    id: str
    camera_id: str
    kind: str
    start: float
    last_seen: float  # the last moving object of the kind
    last_sent: float
    tracks: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> summary
    stationary: list[int] = field(default_factory=list)  # its tracks standing still
    best: Best | None = None
    track_count: int = 0  # every track it has had
    dirty: bool = False  # a change not yet told (within UPDATE_GAP of the last message)
    # Seconds from Redis's clock (the lifecycle's) to the camera's (captured_at), as of
    # its latest frame: what the messages say, so that the camera server sees its own times.
    offset: float = 0.0
    # The record as last sent, packed: the next message's ``before``. Kept as bytes, it
    # is not unpacked and packed again with the camera's state on every frame between.
    sent: bytes | None = None

    def record(self, end: float | None = None) -> dict[str, Any]:
        """The incident as a message tells it, in the camera's time."""
        shift = self.offset
        return {
            "id": self.id,
            "camera_id": self.camera_id,
            "kind": self.kind,
            "start": round(self.start + shift, 3),
            "end": None if end is None else round(end + shift, 3),
            "tracks": [
                {
                    **t,
                    "first_seen": round(t["first_seen"] + shift, 3),
                    "last_seen": round(t["last_seen"] + shift, 3),
                }
                for t in self.tracks.values()
            ],
            "track_count": self.track_count,
            "stationary": list(self.stationary),
            "snapshot": None if self.best is None else keys.snapshot(self.id),
            "best": None
            if self.best is None
            else {
                "frame_id": self.best.frame_id,
                "track": self.best.track,
                "score": self.best.score,
                "box": list(self.best.box),
            },
        }

    def message(self, kind: str, end: float | None = None) -> dict[str, Any]:
        """``new``, ``update`` or ``end``: the record before (as last sent) and after, as
        Frigate's events carry them, so that a consumer sees what changed."""
        after = self.record(end)
        before = None if self.sent is None else codec.unpackb(self.sent)
        self.sent = codec.packb(after)
        return {
            "type": kind,
            "id": self.id,
            "camera_id": self.camera_id,
            "kind": self.kind,
            "before": before,
            "after": after,
        }


def summary(track: Track) -> dict[str, Any]:
    return {
        "track": track.id,
        "label": track.label,
        "first_seen": track.first_seen,
        "last_seen": track.last_seen,
        "top_score": track.top_score,
        "box": list(track.box),
    }


def quality(track: Track, frame_size: tuple[int, int] | None) -> float:
    """Score times the box's size; a box cut off by the frame's edge counts for nothing."""
    x1, y1, x2, y2 = track.box
    if frame_size is not None:
        width, height = frame_size
        if x1 <= EDGE_PX or y1 <= EDGE_PX or x2 >= width - EDGE_PX or y2 >= height - EDGE_PX:
            return 0.0
    return (track.scores[-1] if track.scores else 0.0) * max(x2 - x1, 0) * max(y2 - y1, 0)


@dataclass
class Frame:
    """What one served frame tells the lifecycle."""

    camera_id: str
    frame_id: str
    at: float  # seconds of Redis's clock: when the frame was stored (its stream id)
    tracks: list[Track]
    size: tuple[int, int] | None = None  # width, height: to tell a box cut off
    offset: float = 0.0  # captured_at - at, where the frame says when it was captured


def step(
    incidents: dict[str, Incident],
    frame: Frame,
    kinds: dict[str, str],
    rules: IncidentRules = RULES,
    track_rules: TrackRules = TRACK_RULES,
) -> list[dict[str, Any]]:
    """The camera's open incidents (by kind, updated in place) after a frame, and the
    messages to send. ``kinds``: detection label -> the event it raises (the schema's)."""
    messages = []
    at = frame.at
    for kind in sorted(set(kinds.values()) | set(incidents)):
        mine = [t for t in frame.tracks if kinds.get(t.label) == kind]
        moving = [
            t
            for t in mine
            if t.confirmed and t.ever_moved and t.state(at, track_rules) is TrackState.ACTIVE
        ]
        incident = incidents.get(kind)
        if incident is not None:
            incident.offset = frame.offset
        if incident is None:
            if moving:
                incident = opened(frame, kind, moving)
                incidents[kind] = incident
                messages.append(incident.message("new"))
            continue
        if moving:  # the last real sighting, not this frame's time: one may be out of view
            incident.last_seen = max(incident.last_seen, *(t.last_seen for t in moving))
        if at - incident.last_seen >= track_rules.end_after:
            messages.append(incident.message("end", end=incident.last_seen))
            del incidents[kind]
            continue
        incident.dirty |= changed(incident, frame, mine, moving, track_rules)
        since = at - incident.last_sent
        if (incident.dirty and since >= UPDATE_GAP) or since >= rules.update_every:
            incident.last_sent, incident.dirty = at, False
            messages.append(incident.message("update"))
    return messages


def opened(frame: Frame, kind: str, moving: list[Track]) -> Incident:
    # The id: camera, kind and when it opened (ms); one incident of a kind is open at a
    # time and a camera's frames come in order, so no two share it, and it is safe in a
    # key and a URL (camera ids and event names are of a closed alphabet).
    incident = Incident(
        id=f"{frame.camera_id}:{kind}:{int(frame.at * 1000)}",
        camera_id=frame.camera_id,
        kind=kind,
        start=min(t.first_seen for t in moving),
        last_seen=max(t.last_seen for t in moving),
        last_sent=frame.at,
        tracks={t.id: summary(t) for t in moving},
        track_count=len(moving),
        offset=frame.offset,
    )
    keep_best(incident, frame, moving)
    return incident


def changed(
    incident: Incident, frame: Frame, mine: list[Track], moving: list[Track], rules: TrackRules
) -> bool:
    """A change worth an update: a moving object joins, or one stops or starts moving.
    The incident's record of its tracks is kept current either way."""
    joined = [t for t in moving if t.id not in incident.tracks]
    for t in mine:  # those in this frame: the others' summaries are as they were
        if t in joined or (t.id in incident.tracks and t.last_seen == frame.at):
            incident.tracks[t.id] = summary(t)
    incident.track_count += len(joined)
    if len(incident.tracks) > MAX_TRACKS:  # an hour in a plaza: the latest seen are kept
        kept = sorted(incident.tracks.values(), key=lambda s: -s["last_seen"])[:MAX_TRACKS]
        incident.tracks = {s["track"]: s for s in kept}
    still = sorted(
        t.id
        for t in mine
        if t.id in incident.tracks and t.state(frame.at, rules) is TrackState.STATIONARY
    )
    flipped = still != incident.stationary
    incident.stationary = still
    keep_best(incident, frame, moving)
    return bool(joined) or flipped


def keep_best(incident: Incident, frame: Frame, moving: list[Track]) -> None:
    for t in moving:
        if t.last_seen != frame.at:
            continue  # not in this frame
        q = quality(t, frame.size)
        if incident.best is None or q > incident.best.quality:
            score = t.scores[-1] if t.scores else 0.0
            incident.best = Best(frame.frame_id, t.id, score, t.box, q)


def due(
    incidents: dict[str, Incident], now: float, rules: TrackRules = TRACK_RULES
) -> list[dict[str, Any]]:
    """The ``end`` of every incident whose camera went silent past ``end_after`` (no frame
    comes to end it): for a sweep that runs whether frames arrive or not."""
    ended = [k for k, i in incidents.items() if now - i.last_seen >= rules.end_after]
    return [(gone := incidents.pop(k)).message("end", end=gone.last_seen) for k in sorted(ended)]
