"""How far the cues this fleet has can tell the hand-labelled pedestrians apart, with
each one's true past (the labels, not a tracker's guess): what no tracker built on them
can beat.

- Motion: where their feet should be now at their last pace, how far they are from it,
  and how often another pedestrian is nearer to it (``motion_margin``).
- Looks, where motion cannot tell (``look_margin``): among the pedestrians standing within
  the tracker's gate of one of them a step later, is the one who looks most alike the same
  person? The cues: a colour histogram of the box, and the detector's own features pooled
  over the box at three depths (JDE's and FairMOT's free appearance cue, without their
  trained identity head). A re-identification network is the cue trackers add for crowds
  at low frame rates (DeepSORT, BoT-SORT); none is among the models here.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import shape_inference

from is21.lab.bench.vtest_labels import LABELS, NOT_PEOPLE
from is21.schemas.results import Detection
from is21.workers.backends.onnx import OnnxBackend
from is21.workers.detector import Detector
from is21.workers.image import prepare
from is21.workers.track import Box
from is21.workers.track.centroid import distance, size

Feet = dict[str, tuple[float, float, float]]  # name -> foot x, y and box size


def named(index: int, detections: list[Detection]) -> dict[str, Box]:
    """The labelled pedestrians of a frame, and the box at their feet."""
    out: dict[str, Box] = {}
    for who, x, y in LABELS[index]:
        boxes = [
            d.box
            for d in detections
            if abs((d.box[0] + d.box[2]) / 2 - x) + abs(d.box[3] - y) <= 12
        ]
        if who not in NOT_PEOPLE and boxes:
            out[who] = boxes[0]
    return out


def feet(index: int, detections: list[Detection]) -> Feet:
    """The labelled pedestrians of a frame: their foot point, and their box's size."""
    labelled = {who: (x, y) for who, x, y in LABELS[index]}
    return {who: (*labelled[who], size(box)) for who, box in named(index, detections).items()}


def motion_margin(by_frame: dict[int, list[Detection]], step: int, frames: range) -> dict[str, Any]:
    """Over every labelled frame ``step`` clip frames after two others: each pedestrian's
    miss (feet from where their pace said, in box sizes) and whether another one stood
    nearer to that point."""
    indices = [i for i in sorted(LABELS) if i in frames and i % step == 0]
    seen = {i: feet(i, by_frame[i]) for i in indices}
    misses, others, nearer = [], [], 0
    for before, last, now in zip(indices, indices[1:], indices[2:], strict=False):
        if now - last != step or last - before != step:
            continue
        for who, (x, y, s) in seen[now].items():
            if who not in seen[last] or who not in seen[before]:
                continue
            (lx, ly, _), (bx, by, _) = seen[last][who], seen[before][who]
            px, py = 2 * lx - bx, 2 * ly - by
            miss = math.hypot(x - px, y - py) / s
            other = min(
                (
                    math.hypot(ox - px, oy - py) / s
                    for w, (ox, oy, _) in seen[now].items()
                    if w != who
                ),
                default=math.inf,
            )
            misses.append(miss)
            others.append(other)
            nearer += other < miss
    finite = [o for o in others if o < math.inf]  # a frame with nobody else: no other
    return {
        "steps": len(misses),
        "miss_median": round(statistics.median(misses), 2) if misses else None,
        "miss_p90": round(statistics.quantiles(misses, n=10)[-1], 2) if len(misses) > 1 else None,
        "nearest_other_median": round(statistics.median(finite), 2) if finite else None,
        "another_nearer": nearer,
    }


Look = npt.NDArray[np.float32]  # a unit vector: two looks' distance is 1 - their dot product
Pixels = tuple[int, int, int, int]  # a box in the model's input pixels
GATE = 2.5  # box sizes: the tracker's max_distance, where pedestrians can be confused
STEPS = {"1 s": 10, "2 s": 20}  # clip frames a step, at 1 and 0.5 fps


def feature_maps(graph: onnx.GraphProto) -> dict[str, str]:
    """The YOLOX graph's tensors each cue pools (its shapes inferred), found by their
    place, not their names (numbers that change with every export): the last map at
    stride 4 (edges and colour), the backbone's last at stride 8 (before the neck mixes
    the levels), and what the head's classifier reads at stride 8."""
    side = {v.name: v.type.tensor_type.shape.dim[-1].dim_value for v in graph.value_info}
    width = graph.input[0].type.tensor_type.shape.dim[-1].dim_value
    at, neck = {}, False
    for node in graph.node:
        neck = neck or node.op_type == "Resize"
        if node.op_type == "Mul" and side.get(node.output[0]) == width // 4:
            at["detector, stride 4"] = node.output[0]
        if node.op_type == "Mul" and side.get(node.output[0]) == width // 8 and not neck:
            at["detector, backbone at stride 8"] = node.output[0]
        if "head.cls_preds.0.weight" in node.input:
            at["detector, head at stride 8"] = node.input[0]
    return at


def unit(*parts: npt.NDArray[np.floating[Any]]) -> Look:
    whole = np.concatenate([p / max(float(np.linalg.norm(p)), 1e-9) for p in parts])
    return (whole / math.sqrt(len(parts))).astype(np.float32)


def halves(box: Pixels) -> list[Pixels]:
    """The upper and lower half of a box: a jacket and trousers told apart."""
    x1, y1, x2, y2 = box
    middle = (y1 + y2) // 2
    return [(x1, y1, x2, max(middle, y1 + 1)), (x1, middle, x2, max(y2, middle + 1))]


def colour(pixels: npt.NDArray[np.uint8], box: Pixels) -> Look:
    """4x4x4 colour bins of each half, square-rooted: their dot product is the halves'
    Bhattacharyya coefficient."""
    parts = []
    for x1, y1, x2, y2 in halves(box):
        bins = pixels[y1:y2, x1:x2].reshape(-1, 3).astype(np.int64) // 64
        counts = np.bincount(bins[:, 0] * 16 + bins[:, 1] * 4 + bins[:, 2], minlength=64)
        parts.append(np.sqrt(counts / max(int(counts.sum()), 1)))
    return unit(*parts)


def pooled(features: npt.NDArray[np.float32], box: Pixels, width: int) -> Look:
    """A (channels, h, w) map's mean over each half of the box, at the map's stride."""
    stride = width / features.shape[-1]
    parts = []
    for x1, y1, x2, y2 in halves(box):
        j1, i1 = int(x1 / stride), int(y1 / stride)
        j2, i2 = max(math.ceil(x2 / stride), j1 + 1), max(math.ceil(y2 / stride), i1 + 1)
        parts.append(features[:, i1:i2, j1:j2].reshape(features.shape[0], -1).mean(axis=1))
    return unit(*parts)


def looks(
    detector: Detector, frames: dict[int, bytes], by_frame: dict[int, list[Detection]]
) -> tuple[list[str], dict[int, dict[str, tuple[Box, dict[str, Look]]]]]:
    """Each labelled pedestrian's box and looks on each frame: the cues' names, and them."""
    if not isinstance(detector.backend, OnnxBackend):
        raise ValueError("the detector's features are read from its ONNX file")
    model = onnx.load(str(detector.backend.path))
    graph = shape_inference.infer_shapes(model).graph
    maps = feature_maps(graph)
    shapes = {v.name: v for v in graph.value_info}
    model.graph.output.extend(shapes[name] for name in maps.values())
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    width = detector.letterbox.width
    seen: dict[int, dict[str, tuple[Box, dict[str, Look]]]] = {}
    for index, data in frames.items():
        prep = prepare(data, detector.letterbox, 1 << 30)  # the model's input, top-left
        pixels = prep.pixels.transpose(2, 0, 1)[None].astype(np.float32)
        outputs = session.run(list(maps.values()), {session.get_inputs()[0].name: pixels})
        seen[index] = {}
        for who, box in named(index, by_frame[index]).items():
            x1, y1, x2, y2 = (int(v * prep.scale) for v in box)
            cues = {"colour histogram": colour(prep.pixels, (x1, y1, x2, y2))}
            for cue, out in zip(maps, outputs, strict=True):
                cues[cue] = pooled(np.asarray(out)[0], (x1, y1, x2, y2), width)
            seen[index][who] = (box, cues)
    return ["colour histogram", *maps], seen


def look_margin(
    detector: Detector, frames: dict[int, bytes], by_frame: dict[int, list[Detection]]
) -> dict[str, dict[str, dict[str, float]]]:
    """Per cue and step: how many times a labelled pedestrian had another within the gate
    of their own feet a step later, and in what share of those the nearest look was their
    own (a tracker that knew their true place would still have to choose among these)."""
    cues, seen = looks(detector, frames, by_frame)
    report: dict[str, dict[str, dict[str, float]]] = {cue: {} for cue in cues}
    for name, step in STEPS.items():
        for cue in cues:
            cases = right = 0
            for index, people in seen.items():
                later = seen.get(index + step, {})
                for who, (_, mine) in people.items():
                    if who not in later:
                        continue
                    here = later[who][0]
                    near = [w for w, (box, _) in later.items() if distance(here, box) <= GATE]
                    if len(near) > 1:
                        alike = max(near, key=lambda w: float(mine[cue] @ later[w][1][cue]))
                        cases, right = cases + 1, right + (alike == who)
            report[cue][name] = {"cases": cases, "rank1": round(right / max(cases, 1), 2)}
    return report
