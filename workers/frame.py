"""One frame turned into a ``Result``: its metadata read, every detector run, detections
mapped to events by the schema in force.

A stream entry is untrusted input (any client of the protocol may have written it), so
every way it can be wrong ends as a result with ``status="error"`` and the reason, never
as an exception out of here: the worker goes on with the next frame.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from pydantic import ValidationError

from is21.schemas import codec
from is21.schemas.events import EventSchema
from is21.schemas.frames import FrameMeta
from is21.schemas.results import NO_EVENT, Detection, Result
from is21.schemas.settings import Settings
from is21.workers.backends import InferenceFailed
from is21.workers.claims import Claim
from is21.workers.detector import Detector, Timings
from is21.workers.gate import Decision, Looked, Reference, decide
from is21.workers.gate.pixel_diff import PixelDiffGate
from is21.workers.image import ImageError, Letterbox, Prepared, prepare
from is21.workers.incidents.follow import Followed, follow, stored_at

log = logging.getLogger(__name__)

_META_FIELDS = {"captured_at", "request_id"}
GATE = PixelDiffGate()
DETECTOR_FAILED = "detector failed"  # how a result's error says it was ours


class Fault(enum.Enum):
    """Whose fault a failed frame was: it decides what the worker does about it."""

    FRAME = "frame"  # the camera's input (a corrupt JPEG, bad metadata): logged, served on
    DETECTOR = "detector"  # the model or its decoding raised: counted (detector_failing)
    RUNTIME = "runtime"  # the runtime could not run (InferenceFailed): counted (a failed core)


class Served(NamedTuple):
    """A frame's result, whose fault it was if it failed, the claim it served (its
    tracking state and JPEG, for ``follow_frame`` when the result is published) and what
    the change gate decided (the new reference, if the detectors ran)."""

    result: Result
    fault: Fault | None = None
    claim: Claim | None = None
    decision: Decision | None = None


class BadEntry(LookupError):
    """The claimed stream entry cannot be served (gone, no JPEG, too large)."""


class Serving(Protocol):
    """What running a frame needs of the worker's engine."""

    settings: Settings
    detectors: list[Detector]
    schema: EventSchema
    worker_name: str

    @property
    def model(self) -> str: ...

    @property
    def model_sha256(self) -> str: ...


@dataclass
class Inputs:
    """A claimed frame decoded into model inputs, and what decoding it took."""

    frame: tuple[str, str]  # camera id, frame id: two cameras' frames may share an id
    prepared: dict[Letterbox, Prepared] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    decision: Decision | None = None  # the gate's, when it looked ahead

    @staticmethod
    def of(inputs: Inputs | None, claim: Claim) -> Inputs:
        """The inputs decoded ahead if they are this claim's frame, else empty ones."""
        frame = (claim.camera_id, claim.frame_id)
        if inputs is None or inputs.frame != frame:
            return Inputs(frame)
        return inputs


def gate_frame(engine: Serving, claim: Claim) -> Decision:
    """Whether the detectors run on the frame, or its result repeats the reference's."""
    return decide(
        GATE,
        claim.jpeg,
        Reference.decode(claim.gate),
        stored_at(claim.frame_id),
        engine.schema.gate_for(claim.camera_id),
        engine.model,
        engine.settings.max_pixels,
    )


def decode_ahead(engine: Serving, claim: Claim) -> Inputs | None:
    """The gate's look, then, unless it skips the detectors, the frame decoded for each
    layout they take; None when it does not decode: its detection meets that and says so."""
    if claim.problem is not None:
        return None
    try:
        decision = gate_frame(engine, claim)
    except Exception:  # a fault of the gate's: run_frame meets it again, and reports it
        log.exception("change gate failed on camera %s frame %s", claim.camera_id, claim.seq)
        return None
    inputs = Inputs((claim.camera_id, claim.frame_id), decision=decision)
    if not decision.run:
        return inputs
    started = time.perf_counter()
    try:
        for det in engine.detectors:
            if det.letterbox not in inputs.prepared:
                inputs.prepared[det.letterbox] = prepare(
                    claim.jpeg, det.letterbox, engine.settings.max_pixels
                )
    except ImageError:
        return None
    inputs.timings.decode_ms = (time.perf_counter() - started) * 1000
    return inputs


def frame_meta(claim: Claim) -> FrameMeta:
    """Metadata read back from Redis is untrusted: validate it like any input."""
    stored = codec.unpackb(claim.meta) if claim.meta else {}  # meta is optional
    if not isinstance(stored, dict):
        raise codec.CodecError("frame metadata is not a map")
    try:
        return FrameMeta(
            camera_id=claim.camera_id,
            seq=claim.seq,
            frame_id=claim.frame_id,
            **{k: v for k, v in stored.items() if k in _META_FIELDS},
        )
    except ValidationError as exc:
        raise codec.CodecError(f"invalid frame metadata: {codec.explain(exc)}") from exc


def run_frame(
    engine: Serving, claim: Claim, held_ms: float = 0.0, inputs: Inputs | None = None
) -> Served:
    """Every detector on the frame, or, when the gate finds it unchanged, the detections
    of the frame they last ran on; ``inputs``: the frame already looked at and decoded
    ahead, if it was."""
    inputs = Inputs.of(inputs, claim)
    timings, decision = inputs.timings, inputs.decision
    meta: FrameMeta | None = None
    detections: list[Detection] = []
    primary, error, fault = NO_EVENT, None, None
    events: list[str] = []
    try:
        meta = frame_meta(claim)
        if claim.problem is not None:
            raise BadEntry(claim.problem)
        decision = decision or gate_frame(engine, claim)
        for det in engine.detectors if decision.run else []:
            detections.extend(
                det.detect(claim.jpeg, engine.settings.max_pixels, timings, inputs.prepared)
            )
        detections = list(decision.repeats.detections) if decision.repeats else detections
        primary, events = engine.schema.evaluate(detections, claim.camera_id)
    except (ImageError, codec.CodecError, BadEntry) as exc:
        error, fault = f"{type(exc).__name__}: {exc}", Fault.FRAME
    except Exception as exc:  # a detector fault must not take the worker down
        log.exception("detector failed on camera %s frame %s", claim.camera_id, claim.seq)
        error = f"{DETECTOR_FAILED}: {type(exc).__name__}: {exc}"
        fault = Fault.RUNTIME if isinstance(exc, InferenceFailed) else Fault.DETECTOR
    gated = decision.repeats if decision is not None else None
    size = frame_size(inputs, gated)
    result = Result(
        camera_id=claim.camera_id,
        frame_id=claim.frame_id,
        seq=claim.seq,
        status="ok" if error is None else "error",
        error=error,
        primary_event=primary,
        events=events,
        detections=detections if error is None else [],
        processing_ms=round(decision.ms if decision and gated else timings.total_ms, 2),
        queue_ms=claim.queue_ms,
        held_ms=round(held_ms, 2),
        skipped=claim.skipped,
        gated=gated is not None,
        gated_from=gated.frame_id if gated else None,
        width=size[0] if size else None,
        height=size[1] if size else None,
        model=engine.model,
        model_sha256=engine.model_sha256,
        schema_version=engine.schema.version,
        worker=engine.worker_name,
        request_id=meta.request_id if meta else None,
        captured_at=meta.captured_at if meta else None,
        claimed_at=claim.claimed_at,
    )
    return Served(result, fault, claim, decision)


def frame_size(inputs: Inputs, gated: Reference | None) -> tuple[int, int] | None:
    """Width and height: of the frame decoded, or of the reference a gated one repeats."""
    if gated is not None and gated.width and gated.height:
        return gated.width, gated.height
    return next(((p.orig_width, p.orig_height) for p in inputs.prepared.values()), None)


def after_frame(schema: EventSchema, served: Served | None) -> tuple[Followed | None, Looked]:
    """What the publish writes beside the frame's result: the camera's tracks and
    incidents after it, and the gate's new reference. A gated frame showed nothing new:
    its tracks stay as they were, and so does the reference it was compared with."""
    if served is None:
        return None, Looked()
    decision, result = served.decision, served.result
    ms = decision.ms if decision is not None and decision.picture is not None else None
    if decision is not None and decision.repeats is not None:
        return None, Looked(ms=ms)
    followed = follow_frame(schema, served)
    if decision is None or result.status != "ok":
        return followed, Looked(ms=ms)
    if decision.picture is None and decision.reason != "hold":  # the gate off
        return followed, Looked(ms=ms)
    reference = Reference(  # while hold, without a picture: the next frame looks again
        decision.picture,
        result.frame_id,
        stored_at(result.frame_id),
        result.model,
        result.detections,
        result.width,
        result.height,
        hold=followed is not None and followed.hold,
    )
    return followed, Looked(reference.encode(), ms)


def follow_frame(schema: EventSchema, served: Served) -> Followed | None:
    """The camera's tracks and incidents after the frame, computed as its result is
    published: in the round trip the helper thread makes while the next frame is inferred,
    off the inference path. A fault of ours here costs the camera this frame's tracking
    (the state stays as it was), never its result."""
    claim, result = served.claim, served.result
    if claim is None:
        return None
    try:
        followed = follow(claim.tracking, result, schema)
    except Exception:
        log.exception("tracking failed on camera %s frame %s", claim.camera_id, claim.seq)
        return None
    if followed is not None and followed.best_of:
        followed.jpeg = claim.jpeg
    return followed


def log_incidents(followed: Followed | None) -> None:
    """One line per incident message: a handful an hour per camera, at INFO."""
    for m in followed.messages if followed is not None else []:
        log.info(
            "incident %s: %s",
            m["id"],
            m["type"],
            extra={"camera_id": m["camera_id"], "incident": m["id"], "kind": m["kind"]},
        )


def log_result(served: Served, followed: Followed | None = None) -> None:
    """The stored result's line, after its incidents' lines."""
    # Events at INFO; the quiet majority (no_event) at DEBUG: 30 cameras at 5 fps would
    # otherwise write 150 lines a second to the journal, and building a JSON line costs
    # ~0.17 ms of the frame.
    log_incidents(followed)
    result, fault = served.result, served.fault
    if fault is None:
        level = logging.INFO if result.is_event else logging.DEBUG
    else:  # a bad frame is the camera's (WARNING); a detector that fails is ours (ERROR)
        level = logging.WARNING if fault is Fault.FRAME else logging.ERROR
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        "frame %s/%s: %s",
        result.camera_id,
        result.seq,
        result.primary_event,
        extra={
            "camera_id": result.camera_id,
            "primary_event": result.primary_event,
            "processing_ms": result.processing_ms,
            "request_id": result.request_id,
            "status": result.status,
            "error": result.error,
        },
    )
