"""Prometheus exposition of the whole fleet, read from Redis at scrape time.

The health process holds no counters of its own: every number comes from Redis (camera
hashes, the fleet histogram, heartbeats), so any number of health endpoints agree and a
restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from is21.ops.fleet_state import (
    COUNTER_FIELDS,
    FleetState,
    Progress,
    read_progress,
    read_state,
)
from is21.ops.problems import missing_workers, read_seen
from is21.schemas import keys
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.settings import Settings


class FleetCollector(Collector):
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings

    def collect(self) -> Iterator[Metric]:
        state = read_state(self.client, self.settings.queue)
        yield from self.frames(state)
        yield from self.gate(state)
        yield from self.dispatch(state, read_progress(self.client))
        yield from self.workers(state)
        yield from self.incidents(state)
        yield from self.redis(state)

    def frames(self, state: FleetState) -> Iterator[Metric]:
        """What became of the frames: per camera, fleet-wide, how long they took."""
        frames = CounterMetricFamily(
            "is21_frames", "Frames per camera by outcome", labels=["camera_id", "outcome"]
        )
        totals = dict.fromkeys(COUNTER_FIELDS, 0)
        for cam in state.cameras:
            for outcome, value in cam.counters.items():
                frames.add_metric([cam.camera_id, outcome], value)
                totals[outcome] += value
        yield frames

        inference = CounterMetricFamily(
            "is21_inference",
            "Frames answered with a result, by status; the change gate's among them "
            "(is21_gate_frames_total)",
            labels=["status"],
        )
        inference.add_metric(["success"], totals["processed"])
        inference.add_metric(["error"], totals["failed"])
        yield inference

        fallback = CounterMetricFamily(
            "is21_fallback",
            "Frames the producer answered no_event itself, the fleet unable to answer, by "
            "reason (no_worker, stuck, memory_high, redis_unreachable, ...)",
            labels=["reason"],
        )
        for name, value in state.counters.items():
            if name.startswith("fallback:"):
                fallback.add_metric([name.removeprefix("fallback:")], value)
        yield fallback

        processing = "Decode + inference + decoding the outputs per frame, ms"
        yield histogram(
            "is21_processing_duration_ms", processing, keys.PROCESSING_BUCKETS_MS, state.histogram
        )
        # The same figures under the name they had, for one release (CHANGELOG: Deprecated).
        yield histogram(
            "is21_inference_duration_ms",
            f"Deprecated: is21_processing_duration_ms. {processing}",
            keys.PROCESSING_BUCKETS_MS,
            state.histogram,
        )
        yield histogram(
            "is21_frame_latency_ms",
            "Frame stored -> its result published, ms (the fleet's promise, end to end)",
            keys.LATENCY_BUCKETS_MS,
            state.latency,
        )

        lag = GaugeMetricFamily(
            "is21_camera_lag_seconds",
            "Age of the oldest frame still waiting, per camera",
            labels=["camera_id"],
        )
        for cam in state.cameras:
            lag.add_metric([cam.camera_id], cam.lag_ms / 1000)
        yield lag

    def gate(self, state: FleetState) -> Iterator[Metric]:
        """The change gate: what it decided per camera, and how long its look took."""
        gate = CounterMetricFamily(
            "is21_gate_frames",
            "Frames served per camera by the change gate's decision: gated (unchanged, the "
            "last detections repeated) or run (the detectors ran)",
            labels=["camera_id", "decision"],
        )
        for cam in state.cameras:
            gate.add_metric([cam.camera_id, "gated"], cam.gated)
            gate.add_metric([cam.camera_id, "run"], max(cam.counters["processed"] - cam.gated, 0))
        yield gate
        yield histogram(
            "is21_gate_duration_ms",
            "The change gate's look at a frame (a small gray decode and a comparison), ms",
            keys.GATE_BUCKETS_MS,
            state.gate,
        )

    def dispatch(self, state: FleetState, progress: Progress) -> Iterator[Metric]:
        """Whether what waits is being served."""
        yield GaugeMetricFamily(
            "is21_fleet_stalled",
            "1 while frames have waited past IS21_MAX_FRAME_AGE and no result was "
            "published for as long (/healthz degraded)",
            value=int(progress.stalled(self.settings.max_frame_age)),
        )
        yield GaugeMetricFamily(
            "is21_oldest_waiting_frame_seconds",
            "How long the oldest frame waiting for a worker has waited",
            value=progress.oldest_wait_s,
        )
        yield GaugeMetricFamily("is21_queue_depth", "RQ jobs queued", value=state.queue_depth)
        yield GaugeMetricFamily(
            "is21_ready_cameras", "Cameras waiting for a worker", value=state.ready
        )
        yield GaugeMetricFamily("is21_dispatch_jobs", "Live dispatch jobs", value=state.jobs)

    def incidents(self, state: FleetState) -> Iterator[Metric]:
        """Incidents by camera and kind: open now and for how long, started, ended."""
        labels = ["camera_id", "kind"]
        open_now = GaugeMetricFamily("is21_incidents_open", "Incidents open now", labels=labels)
        oldest = GaugeMetricFamily(
            "is21_incident_open_seconds",
            "How long the oldest open incident has been open (over an hour: most likely "
            "a false positive to look at)",
            labels=labels,
        )
        by_pair: dict[tuple[str, str], list[float]] = {}
        for incident in state.incidents:
            by_pair.setdefault((incident.camera_id, incident.kind), []).append(
                incident.open_s(state.now_ms)
            )
        for (camera, kind), ages in sorted(by_pair.items()):
            open_now.add_metric([camera, kind], len(ages))
            oldest.add_metric([camera, kind], max(ages))
        yield open_now
        yield oldest
        for name, what, attribute in (
            ("is21_incidents_started", "Incidents started (new)", "incidents_started"),
            ("is21_incidents_ended", "Incidents ended", "incidents_ended"),
        ):
            counter = CounterMetricFamily(name, what, labels=labels)
            for cam in state.cameras:
                for kind, count in sorted(getattr(cam, attribute).items()):
                    counter.add_metric([cam.camera_id, kind], count)
            yield counter

    def workers(self, state: FleetState) -> Iterator[Metric]:
        """How many workers: alive, expected, missing (by name), stuck."""
        yield GaugeMetricFamily(
            "is21_workers_alive", "Workers with a fresh heartbeat", value=len(state.workers)
        )
        seen, now = read_seen(self.client)
        missing = missing_workers(seen, state.workers, now, self.settings.forget_workers_after)
        yield GaugeMetricFamily(
            "is21_workers_expected",
            "Workers the fleet expects: alive, or vanished without a goodbye (not forgotten)",
            value=len(state.workers) + len(missing),
        )
        gone = GaugeMetricFamily(
            "is21_worker_missing",
            "1 for each expected worker whose heartbeat is not fresh",
            labels=["worker"],
        )
        since = GaugeMetricFamily(
            "is21_worker_missing_seconds",
            "Seconds since a missing worker's last heartbeat",
            labels=["worker"],
        )
        for p in missing:
            gone.add_metric([str(p["worker"])], 1)
            since.add_metric([str(p["worker"])], float(p["last_seen_s"]))
        yield gone
        yield since
        yield GaugeMetricFamily(
            "is21_workers_stuck",
            "Live workers stuck in one detection past IS21_INFER_TIMEOUT",
            value=sum(1 for w in state.workers if w.get("stuck")),
        )
        yield from self.each_worker(state)

    def each_worker(self, state: FleetState) -> Iterator[Metric]:
        """What each live worker says of itself in its heartbeat."""
        stuck = GaugeMetricFamily(
            "is21_worker_stuck", "1 while the worker is stuck in one detection", labels=["worker"]
        )
        fps = GaugeMetricFamily(
            "is21_worker_fps", "Frames the worker finished a second, over 10 s", labels=["worker"]
        )
        frame = GaugeMetricFamily(
            "is21_worker_frame_ms",
            "Recent per-frame time of each worker",
            labels=["worker", "kind", "quantile"],
        )
        rss = GaugeMetricFamily(
            "is21_worker_rss_bytes", "Resident memory of each worker", labels=["worker"]
        )
        for w in state.workers:
            name = str(w.get("worker"))
            stuck.add_metric([name], 1 if w.get("stuck") else 0)
            if isinstance(w.get("fps"), int | float):
                fps.add_metric([name], w["fps"])
            for kind in ("processing", "inference", "dispatch"):  # inference: deprecated
                for q, quantile in (("50", "0.5"), ("99", "0.99")):  # as summaries name them
                    ms = w.get(f"{kind}_ms_p{q}")
                    if isinstance(ms, int | float):
                        frame.add_metric([name, kind, quantile], ms)
            if isinstance(w.get("rss_bytes"), int):
                rss.add_metric([name], w["rss_bytes"])
        yield from (stuck, fps, frame, rss)

    def redis(self, state: FleetState) -> Iterator[Metric]:
        """Redis itself, and what the fleet keeps in it."""
        memory: Any = self.client.info("memory")
        clients: Any = self.client.info("clients")
        yield GaugeMetricFamily(
            "is21_redis_memory_bytes", "Memory Redis uses", value=int(memory.get("used_memory", 0))
        )
        yield GaugeMetricFamily(
            "is21_redis_maxmemory_bytes",
            "Redis's maxmemory (0: no limit)",
            value=int(memory.get("maxmemory", 0)),
        )
        yield GaugeMetricFamily(
            "is21_redis_connected_clients",
            "Connections to Redis, of every client",
            value=int(clients.get("connected_clients", 0)),
        )

        yield GaugeMetricFamily(
            "is21_bad_fleet_entries",
            "Fleet keys or fields holding what no fleet process writes, left out of these "
            "numbers (is21 status names them)",
            value=len(state.bad_entries),
        )

        version = GaugeMetricFamily(
            "is21_schema_version", "Event schema in force (1 for its version)", labels=["version"]
        )
        version.add_metric([state.schema_version or DEFAULT_SCHEMA.version], 1)
        yield version


def histogram(
    name: str, doc: str, bounds: tuple[int, ...], counts: dict[str, float]
) -> HistogramMetricFamily:
    """A Prometheus histogram from a hash of per-bucket counts (``le:N``) and ``sum``."""
    buckets, cumulative = [], 0.0
    for bound in [*bounds, "+Inf"]:
        cumulative += counts.get(f"le:{bound}", 0.0)
        buckets.append((str(bound), cumulative))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=counts.get("sum", 0.0))
