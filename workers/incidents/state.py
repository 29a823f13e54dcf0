"""A camera's tracks and open incidents as kept in Redis (``is21:tracks:{cam}``).

The state lives beside the camera, not in a worker: a camera moves from worker to worker
with every claim, and a claim is exclusive and in frame order, so the worker that holds
the camera reads its state with the claim and writes it back with the result, under the
same holder check (``protocol/publish.lua``). A worker that dies mid-frame writes
nothing; the frame is served again from the state before it, so no track's end is lost
or sent twice.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from typing import Any

from is21.schemas import codec
from is21.workers.incidents.lifecycle import Best, Incident
from is21.workers.track import Track

VERSION = 2  # of this record; a record of another version starts the camera afresh
# A track is stored as the list of its fields in this order, not as a map: the names
# would be half of a crowded camera's record, read and written with every frame.
TRACK_FIELDS = [f.name for f in fields(Track)]
track_values = operator.attrgetter(*TRACK_FIELDS)


@dataclass
class CameraState:
    tracks: list[Track] = field(default_factory=list)
    next_id: int = 1
    incidents: dict[str, Incident] = field(default_factory=dict)  # open ones, by kind

    def encode(self) -> bytes:
        return codec.packb(
            {
                "v": VERSION,
                "next_id": self.next_id,
                # One C call a track, not asdict(): asdict deep-copies every field, and
                # this runs for every frame of every camera.
                "tracks": [track_values(t) for t in self.tracks],
                "incidents": [encode_incident(i) for i in self.incidents.values()],
            }
        )

    @classmethod
    def decode(cls, data: bytes | None) -> CameraState:
        """The stored state; a fresh one for a camera without state, or with a record
        that is not this version's: tracking starts again rather than failing the frame."""
        if not data:
            return cls()
        try:
            raw = codec.unpackb(data, use_list=False)  # a track's boxes are tuples
            if raw["v"] != VERSION:
                return cls()
            tracks = [track(values) for values in raw["tracks"]]
            incidents = [decode_incident(i) for i in raw["incidents"]]
            return cls(tracks, int(raw["next_id"]), {i.kind: i for i in incidents})
        except (codec.CodecError, KeyError, TypeError, ValueError):
            return cls()


def track(values: tuple[Any, ...]) -> Track:
    if len(values) != len(TRACK_FIELDS):
        raise ValueError(f"a track of {len(values)} fields, not {len(TRACK_FIELDS)}")
    return Track(*values)


def encode_incident(incident: Incident) -> dict[str, Any]:
    return {
        **vars(incident),
        "tracks": list(incident.tracks.values()),  # msgpack maps keep string keys only
        "best": None if incident.best is None else vars(incident.best),
    }


def decode_incident(raw: dict[str, Any]) -> Incident:
    best = raw.pop("best")
    tracks = raw.pop("tracks")
    stationary = list(raw.pop("stationary"))  # compared with a list each frame
    if isinstance(raw.get("sent"), dict):  # a record written before it was kept packed
        raw["sent"] = codec.packb(raw["sent"])
    return Incident(
        **raw,
        tracks={int(t["track"]): t for t in tracks},
        stationary=stationary,
        best=None if best is None else Best(**{**best, "box": tuple(best["box"])}),
    )
