"""``is21 results CAMERA``: a camera's recent results, one line each, for an operator.

A result's fields are in the msgpack ``data`` of its stream entry, which ``redis-cli``
prints as binary: RUNBOOK P2 asks for the ``error`` of the last results, and this is how
to read it. Read-only; an entry that is not a result is shown as such, not raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from is21.schemas import codec, keys
from is21.schemas.frames import is_camera_id
from is21.schemas.results import Detection, Result

PAGE = 200  # entries per XREVRANGE while looking back for errors


class NoSuchCamera(LookupError):
    """The camera has no results stream: a typo, or it never submitted a frame."""


@dataclass
class Row:
    entry_id: str
    result: Result | None
    problem: str | None = None  # why the entry is not a result

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(int(self.entry_id.split("-")[0]) / 1000, UTC)

    def failed(self) -> bool:
        return self.result is None or self.result.status != "ok"


def row(entry_id: bytes, fields: dict[bytes, bytes]) -> Row:
    try:
        return Row(entry_id.decode(), codec.decode(fields[b"data"], Result))
    except (KeyError, codec.CodecError) as exc:
        return Row(entry_id.decode(), None, f"not a result: {type(exc).__name__}: {exc}")


def check_camera(client: redis.Redis, camera: str) -> None:
    if not is_camera_id(camera):
        raise ValueError(f"{camera[:80]!r} is not a camera id (1-64 of [A-Za-z0-9_.-])")
    if client.exists(keys.results(camera)):
        return
    known: Any = client.smembers(keys.CAMERAS)
    names = sorted(k.decode("utf-8", "replace") for k in known)
    listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise NoSuchCamera(f"no results for camera {camera}; cameras: {listed or 'none yet'}")


def recent(client: redis.Redis, camera: str, count: int, errors_only: bool) -> list[Row]:
    """The last ``count`` results (or failed ones), oldest first; looking back through the
    whole capped stream for errors if need be."""
    rows: list[Row] = []
    before = "+"
    while len(rows) < count:
        page: Any = client.xrevrange(keys.results(camera), before, "-", count=PAGE)
        for entry_id, fields in page:
            r = row(entry_id, fields)
            if not errors_only or r.failed():
                rows.append(r)
        if len(page) < PAGE:
            break
        before = "(" + page[-1][0].decode()
    return rows[:count][::-1]


def follow(client: redis.Redis, camera: str, after: str, errors_only: bool) -> Iterator[Row]:
    """Results as they are published, until interrupted."""
    while True:
        reply: Any = client.xread({keys.results(camera): after}, block=1000)
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                after = entry_id.decode()
                r = row(entry_id, fields)
                if not errors_only or r.failed():
                    yield r


def summary(detections: list[Detection]) -> str:
    """``2 person 0.91, 1 dog 0.55``: how many of each label, and the best score."""
    best: dict[str, list[float]] = {}
    for d in detections:
        best.setdefault(d.label, []).append(d.score)
    return ", ".join(
        f"{len(s)} {label} {max(s):.2f}"
        for label, s in sorted(best.items(), key=lambda i: -max(i[1]))
    )


def line(r: Row) -> str:
    at = r.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    if r.result is None:
        return f"{at}  {r.entry_id}  {r.problem}"
    res = r.result
    what = res.error if res.status != "ok" else summary(res.detections) or "nothing detected"
    return (
        f"{at}  seq {res.seq:<6} {res.status:<6} {res.primary_event:<10} "
        f"{res.processing_ms:6.1f} ms  {what}"
    )


def as_json(r: Row) -> str:
    body: dict[str, Any] = {"id": r.entry_id, "at": r.at.isoformat().replace("+00:00", "Z")}
    if r.result is None:
        body["problem"] = r.problem
    else:
        body.update(r.result.model_dump(mode="json"))
    return json.dumps(body)
