"""``FrameProducer.incidents()``: the incident messages a camera server stores, and the
one promise the fleet cannot keep alone.

Every ``new`` gets its ``end`` from the fleet, across dead workers, failovers and a Redis
that restarts with its data. A Redis that restarts *without* persistence (the shipped
default: frames are ephemeral) has forgotten the incidents it held open, so no ``end``
will come for them. The reader notices (the stream lost the entries it had read) and
ends them itself, with ``reason`` saying so: the camera server never keeps an incident
open for ever.
"""

from __future__ import annotations

import logging

from is21.schemas import codec
from is21.schemas.incidents import IncidentMessage

log = logging.getLogger(__name__)

FORGOTTEN = "Redis restarted without its data: the fleet forgot this incident"


class OpenIncidents:
    """The incidents this reader has seen open, by id, as their last message told them."""

    def __init__(self) -> None:
        self.open: dict[str, IncidentMessage] = {}

    def decode(self, entry_id: bytes, fields: dict[bytes, bytes]) -> IncidentMessage | None:
        """An incident message, or None (logged) for an entry that is not one: the stream
        is open to any client of the protocol, and one bad entry must not stop the reader."""
        try:
            message = codec.decode(fields.get(b"data", b""), IncidentMessage)
        except codec.CodecError as exc:
            log.warning("is21:incidents entry %s is not an incident: %s", entry_id.decode(), exc)
            return None
        if message.type == "end":
            self.open.pop(message.id, None)
        else:
            self.open[message.id] = message
        return message

    def forgotten(self) -> list[IncidentMessage]:
        """The ``end`` of every incident open when Redis lost them: at their last sighting."""
        ends = []
        for last in self.open.values():
            seen = max((t.last_seen for t in last.after.tracks), default=last.after.start)
            after = last.after.model_copy(update={"end": seen})
            ends.append(
                last.model_copy(
                    update={
                        "type": "end",
                        "before": last.after,
                        "after": after,
                        "reason": FORGOTTEN,
                    }
                )
            )
            log.warning("incident %s ended by the reader: %s", last.id, FORGOTTEN)
        self.open.clear()
        return ends
