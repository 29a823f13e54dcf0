"""One served frame through the camera's tracker and incident lifecycle: the state read
with the claim in, the state to write with the result and the messages to send out.

Time is Redis's clock when the frame was stored (its stream id), not the camera's
``captured_at``: it orders a camera's frames, it is the clock the sweep reads for a camera
gone silent, and no camera's or foreign client's clock can move it backwards. The fleet
serves a camera's newest frame only, so a backlog of frames stored at once never reaches
the tracker as frames zero seconds apart. The messages say the camera's time where the
frame carries ``captured_at`` (``Frame.offset``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from is21.schemas import codec
from is21.schemas.events import EventSchema
from is21.schemas.frames import entry_order
from is21.schemas.results import PROTOCOL_VERSION, Result
from is21.workers.incidents.lifecycle import Frame, Incident, IncidentRules, due, step
from is21.workers.incidents.state import CameraState
from is21.workers.track import TrackRules, TrackState
from is21.workers.track.centroid import CentroidTracker


@dataclass
class Followed:
    """What the publish writes beside the frame's result (``protocol/publish.lua``)."""

    state: bytes
    due_ms: int | None  # when the sweep ends the open incidents if no frame comes
    messages: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, bytes] = field(default_factory=dict)  # open incident id -> record
    best_of: list[str] = field(default_factory=list)  # incidents whose best is this frame
    jpeg: bytes = b""  # this frame, kept as their snapshot
    # An incident open or a confirmed track moving: the change gate must not skip the
    # camera's next frame (workers/gate), whatever its picture shows.
    hold: bool = False

    def args(self) -> list[bytes | str | int]:
        """The messages as the functions take them (common.lua ``send_incidents``)."""
        out: list[bytes | str | int] = [len(self.messages)]
        for m in self.messages:
            record = b"" if m["type"] == "end" else self.records[m["id"]]
            data = codec.packb({**m, "protocol": PROTOCOL_VERSION})
            out += [m["type"], m["id"], m["kind"], data, record]
        return out


def stored_at(frame_id: str) -> float:
    """Seconds of Redis's clock when the frame was stored: its stream id's milliseconds."""
    return entry_order(frame_id)[0] / 1000


@dataclass(frozen=True)
class CameraRules:
    """What one camera's tracking takes from the event schema: worked out once a schema,
    not once a frame (pydantic's dumps and the label maps were a tenth of ``follow``)."""

    incidents: bool
    track: TrackRules
    incident: IncidentRules
    kinds: dict[str, tuple[str, float]]  # label -> (event, the score it needs)
    events: dict[str, str]  # label -> event

    @classmethod
    def of(cls, schema: EventSchema, camera: str) -> CameraRules:
        tracking, kinds = schema.tracking_for(camera), schema.kinds(camera)
        return cls(
            tracking.incidents,
            TrackRules.of(tracking),
            IncidentRules(update_every=tracking.update_every),
            kinds,
            {label: kind for label, (kind, _) in kinds.items()},
        )


# The schema in force and its cameras' rules. Its identity, not its version, is the key:
# a worker holds one schema at a time, and a new one (even of the same version) starts
# afresh. At most MEMO_CAMERAS cameras: camera ids come from the frames.
_memo: list[tuple[EventSchema, dict[str, CameraRules]]] = []
MEMO_CAMERAS = 1024


def camera_rules(schema: EventSchema, camera: str) -> CameraRules:
    if not _memo or _memo[0][0] is not schema or len(_memo[0][1]) >= MEMO_CAMERAS:
        _memo[:] = [(schema, {})]
    cameras = _memo[0][1]
    rules = cameras.get(camera)
    if rules is None:
        rules = cameras[camera] = CameraRules.of(schema, camera)
    return rules


def follow(state: bytes, result: Result, schema: EventSchema) -> Followed | None:
    """The frame's detections through the camera's tracks and incidents; None when the
    state stays as it was: a frame that failed (it says nothing of what is in view), or an
    empty scene on a camera that tracks nothing (most frames of most cameras)."""
    if result.status != "ok":
        return None
    camera = result.camera_id
    rules = camera_rules(schema, camera)
    if not rules.incidents:
        return None  # the sweep still ends what was open when they were switched off
    track_rules, kinds = rules.track, rules.kinds
    detections = [d for d in result.detections if d.label in kinds and d.score >= kinds[d.label][1]]
    if not state and not detections:
        return None  # a camera with nothing tracked and nothing in view: nothing to write
    at = stored_at(result.frame_id)
    offset = result.captured_at.timestamp() - at if result.captured_at is not None else 0.0
    current = CameraState.decode(state)
    tracks, next_id = CentroidTracker(track_rules).update(
        current.tracks, detections, at, current.next_id
    )
    size = (result.width, result.height) if result.width and result.height else None
    frame = Frame(camera, result.frame_id, at, tracks, size, offset)
    bests = {kind: i.best for kind, i in current.incidents.items()}
    messages = step(current.incidents, frame, rules.events, rules.incident, track_rules)
    best_of = [  # a best frame replaced by this one: its JPEG goes with the result
        i.id
        for kind, i in current.incidents.items()
        if i.best is not None and i.best is not bests.get(kind)
    ]
    after = CameraState(tracks, next_id, current.incidents)
    followed = outcome(after, messages, track_rules.end_after, best_of)
    followed.hold = bool(after.incidents) or any(
        t.ever_moved and t.confirmed and t.state(at, track_rules) is TrackState.ACTIVE
        for t in tracks
    )
    return followed


def outcome(
    state: CameraState, messages: list[dict[str, Any]], end_after: float, best_of: list[str]
) -> Followed:
    open_ = state.incidents.values()
    due_ms = min((int((i.last_seen + end_after) * 1000) for i in open_), default=None)
    told = {m["id"] for m in messages}  # a record is written only with a message
    records = {i.id: record(i) for i in open_ if i.id in told}
    return Followed(state.encode(), due_ms, messages, records, best_of)


def record(incident: Incident) -> bytes:
    """An open incident as ``is21:incidents:open`` keeps it: its last record, and since
    when (Redis's clock) it is open, for the alert on incidents open for an hour."""
    return codec.packb({**incident.record(), "since": incident.start})


def sweep_state(state: bytes, now: float, rules: TrackRules) -> Followed:
    """The end of every open incident past ``end_after`` at ``now`` (Redis's clock), for
    a camera no frame came from, and when the rest are due."""
    current = CameraState.decode(state)
    messages = due(current.incidents, now, rules)
    return outcome(current, messages, rules.end_after, [])
