"""``is21 models compare``: does the converted model still see what the float model sees?

A plain int8 conversion can look fine and silently turn a person at 0.87 into 0.11. So
before a converted model is installed, both run on the same photos through the fleet's
own path: the reference through ONNX Runtime, the candidate through ``RknnBackend`` on
the toolkit's simulator, its outputs decoded by the format the manifest will name. What
counts is what an operator would see change: the events, then the boxes and scores.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from is21.ops.npu.toolkit import Conversion, Simulator
from is21.schemas.events import DEFAULT_SCHEMA
from is21.schemas.results import Detection
from is21.workers.backends.onnx import OnnxBackend
from is21.workers.backends.rknn import RknnBackend
from is21.workers.detector import Detector
from is21.workers.formats import get_format
from is21.workers.manifest import ModelSpec, sha256_of

MATCH_IOU = 0.5  # below this two boxes are different objects, not one that moved


@dataclass(frozen=True)
class Thresholds:
    min_median_iou: float = 0.9
    max_median_drift: float = 0.05


@dataclass
class ImageReport:
    image: str
    reference_events: list[str]
    candidate_events: list[str]
    matched: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)

    @property
    def events_identical(self) -> bool:
        return self.reference_events == self.candidate_events


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(ref: list[Detection], cand: list[Detection], report: ImageReport) -> None:
    """Greedy, strongest reference first: each box pairs with the same label's best IoU."""
    left = list(cand)
    for r in sorted(ref, key=lambda d: -d.score):
        scored = [(iou(r.box, c.box), c) for c in left if c.label == r.label]
        best = max(scored, key=lambda s: s[0], default=None)
        if best is None or best[0] < MATCH_IOU:
            report.missed.append({"label": r.label, "score": r.score, "box": r.box})
            continue
        left.remove(best[1])
        report.matched.append(
            {
                "label": r.label,
                "iou": round(best[0], 4),
                "reference": r.score,
                "candidate": best[1].score,
                "drift": round(best[1].score - r.score, 4),
            }
        )
    report.extra = [{"label": c.label, "score": c.score, "box": c.box} for c in left]


def summarize(reports: list[ImageReport], limits: Thresholds) -> dict[str, Any]:
    ious = [m["iou"] for r in reports for m in r.matched]
    drifts = [abs(m["drift"]) for r in reports for m in r.matched]
    median_iou = round(statistics.median(ious), 4) if ious else 0.0
    median_drift = round(statistics.median(drifts), 4) if drifts else 1.0
    totals = {
        "images": len(reports),
        "events_identical": sum(r.events_identical for r in reports),
        "matched": len(ious),
        "missed": sum(len(r.missed) for r in reports),
        "extra": sum(len(r.extra) for r in reports),
        "median_iou": median_iou if ious else None,
        "median_drift": median_drift if drifts else None,
        "max_drift": round(max(drifts), 4) if drifts else None,
    }
    failures = [
        f"events differ on {r.image}: {r.reference_events} -> {r.candidate_events}"
        for r in reports
        if not r.events_identical
    ]
    if not ious:
        failures.append("no detection of the reference was matched")
    else:
        if median_iou < limits.min_median_iou:
            failures.append(f"median IoU {median_iou} < {limits.min_median_iou}")
        if median_drift > limits.max_median_drift:
            failures.append(f"median score drift {median_drift} > {limits.max_median_drift}")
    return {
        "totals": totals,
        "thresholds": asdict(limits),
        "verdict": "pass" if not failures else "fail",
        "failures": failures,
    }


def reference_detector(spec: ModelSpec, source: Path, input_scale: float) -> Detector:
    fmt = get_format(spec.format, spec.input_size, len(spec.labels))
    return Detector(spec, OnnxBackend(source, input_scale=input_scale, threads=1), fmt)


def compare(
    reference: ModelSpec,
    reference_file: Path,
    conversion: Conversion,
    images: Sequence[Path],
    limits: Thresholds | None = None,
    venv: Path | None = None,
) -> dict[str, Any]:
    """Both models on every image; the candidate on the simulator as the board runs it."""
    candidate = reference.model_copy(
        update={
            "name": f"{reference.name}-{conversion.target}",
            "file": conversion.source.name,
            "sha256": sha256_of(conversion.source),
            "backend": "rknn",
            "format": conversion.output_format,
        }
    )
    ref = reference_detector(reference, reference_file, conversion.input_scale)
    simulator = Simulator(conversion, venv)
    try:
        backend = RknnBackend(conversion.source, api_class=simulator.as_rknnlite())
        fmt = get_format(candidate.format, candidate.input_size, len(candidate.labels))
        cand = Detector(candidate, backend, fmt)
        reports = []
        for image in images:
            jpeg = image.read_bytes()
            ref_dets, cand_dets = ref.detect(jpeg, 10**9), cand.detect(jpeg, 10**9)
            report = ImageReport(
                image.name,
                DEFAULT_SCHEMA.evaluate(ref_dets)[1],
                DEFAULT_SCHEMA.evaluate(cand_dets)[1],
            )
            match(ref_dets, cand_dets, report)
            reports.append(report)
    finally:
        simulator.close()
    summary = summarize(reports, limits or Thresholds())
    return {
        "reference": str(reference_file),
        "candidate": {"source": str(conversion.source), "target": conversion.target},
        "images": [{**asdict(r), "events_identical": r.events_identical} for r in reports],
        **summary,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        "| image | float events | converted events | matched | min IoU | max drift | "
        "missed | extra |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result["images"]:
        ious = [m["iou"] for m in r["matched"]]
        drifts = [abs(m["drift"]) for m in r["matched"]]
        lines.append(
            f"| {r['image']} | {', '.join(r['reference_events']) or '-'} | "
            f"{', '.join(r['candidate_events']) or '-'} | {len(r['matched'])} | "
            f"{min(ious) if ious else '-'} | {max(drifts) if drifts else '-'} | "
            f"{len(r['missed'])} | {len(r['extra'])} |"
        )
    t = result["totals"]
    lines.append("")
    lines.append(
        f"events identical on {t['events_identical']} of {t['images']} images; "
        f"{t['matched']} boxes matched, median IoU {t['median_iou']}, median score drift "
        f"{t['median_drift']} (max {t['max_drift']}); {t['missed']} missed, {t['extra']} extra"
    )
    lines.append(f"verdict: {result['verdict']}")
    lines.extend(f"  {f}" for f in result["failures"])
    return "\n".join(lines)
