"""Redis key names: part of the contract with operators, retention jobs and dashboards.

The server-side functions in ``protocol/`` build the per-camera names from the same
prefix; the integration tests read every key through this module, so a drift between
the two fails them. docs/protocol.md documents each key for clients in any language.
"""

from __future__ import annotations

PREFIX = "is21:"

READY = PREFIX + "ready"  # zset camera -> ms it was last served (or its frame arrived)
LEASES = PREFIX + "leases"  # zset camera -> ms when the worker's claim on it expires
JOBS = PREFIX + "jobs"  # zset RQ job id -> ms when its dispatch lease expires
WORKERS = PREFIX + "workers"  # zset worker name -> ms when its heartbeat expires
ANSWERING = PREFIX + "answering"  # the same, of the live workers not stuck in a detection
# zset worker name -> ms of its last beat: the workers the fleet expects. A worker leaves
# it by saying goodbye (a stop asked for) or by `is21 workers forget`; one that vanished
# (SIGKILL, OOM, power) stays, and is missing while its heartbeat is not fresh.
SEEN = PREFIX + "workers:seen"
WAKE = PREFIX + "wake"  # list of wake-up tokens for idle jobs
CAMERAS = PREFIX + "cameras"  # set of every camera id ever submitted
EVENTS = PREFIX + "events"  # stream of results whose primary_event is not no_event
EVENTS_PARKED = PREFIX + "events:parked"  # events no consumer acknowledged in 5 deliveries
COUNTERS = PREFIX + "counters"  # hash of fleet-wide counters (fallback, ...)
SCHEMA = PREFIX + "schema"  # hash: version, json of the event schema in force
# hash: bucket counts, count, sum of each frame's processing (decode + inference + decoding
# the outputs), the time in a result's processing_ms; hist:inference_ms until 0.1 (CHANGELOG).
PROCESSING_HISTOGRAM = PREFIX + "hist:processing_ms"
LATENCY_HISTOGRAM = PREFIX + "hist:latency_ms"  # the same, of frame stored -> result out
GATE_HISTOGRAM = PREFIX + "hist:gate_ms"  # the same, of the change gate's look at a frame
PROTOCOL = PREFIX + "protocol"  # hash: version and the fleet's limits, kept by the workers
SERVED = PREFIX + "served"  # ms (server clock) the fleet last published a result
# hash camera -> "ms reason": a camera whose results Redis refused to store, or whose own
# keys are of the wrong type; set aside by the functions until its next result is stored.
CAMERA_PROBLEMS = PREFIX + "camera_problems"
# Workers that left a worker_error key, scored by when: found without SCANning the keyspace.
WORKER_ERRORS = PREFIX + "worker_errors"

# Incidents (issue 31, docs/protocol.md): new / update / end messages, read through a
# consumer group as is21:events is; the open ones (id -> msgpack record and since) for
# status and metrics; camera -> ms when the sweep ends its incidents if no frame comes;
# snapshot key -> ms stored, so that retention caps the best frames without SCAN.
INCIDENTS = PREFIX + "incidents"
INCIDENTS_OPEN = PREFIX + "incidents:open"
INCIDENTS_DUE = PREFIX + "incidents:due"
SNAPSHOTS = PREFIX + "snapshots"

# Upper bounds (ms) of the fleet-wide histograms; the last is +Inf.
PROCESSING_BUCKETS_MS = (5, 10, 20, 30, 50, 75, 100, 150, 250, 500, 1000, 2500)
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000)
GATE_BUCKETS_MS = (1, 2, 5, 10, 25)


def bucket(ms: float, bounds: tuple[int, ...] = PROCESSING_BUCKETS_MS) -> str:
    for bound in bounds:
        if ms <= bound:
            return f"le:{bound}"
    return "le:+Inf"


def frames(camera_id: str) -> str:
    return f"{PREFIX}frames:{camera_id}"


def results(camera_id: str) -> str:
    return f"{PREFIX}results:{camera_id}"


def camera(camera_id: str) -> str:
    """Hash of counters and claim state of one camera."""
    return f"{PREFIX}camera:{camera_id}"


def heartbeat(worker: str) -> str:
    return f"{PREFIX}heartbeat:{worker}"


def worker_error(worker: str) -> str:
    """Why a worker could not start (it exits; systemd retries): shown by health/status."""
    return f"{PREFIX}worker_error:{worker}"


def tracks(camera_id: str) -> str:
    """A camera's tracks and open incidents (msgpack), written with its results."""
    return f"{PREFIX}tracks:{camera_id}"


def gate(camera_id: str) -> str:
    """A camera's change-gate reference (msgpack): the small gray picture of the last
    frame the detectors ran on, and what they found (workers/gate)."""
    return f"{PREFIX}gate:{camera_id}"


def snapshot(incident_id: str) -> str:
    """An incident's best frame, a JPEG with a TTL."""
    return f"{PREFIX}snapshot:{incident_id}"
