"""``is21 models convert | compare``: an ONNX model onto the NPU, proven before installed.

Everything that can be refused is refused here, before the toolkit starts: a file that is
not ONNX, a dynamic input shape, a format whose single output int8 would ruin, a
calibration folder without photos, a chip the board runtime does not drive, a missing
toolkit venv. The conversion record goes into the manifest entry, so the file on a board
can always be traced to its source, its chip and its quantization.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnxruntime as ort

from is21.ops.models import install_model
from is21.ops.npu.compare import Thresholds, compare, format_table
from is21.ops.npu.toolkit import (
    CONVERTED_FORMAT,
    TARGETS,
    TOOLKIT,
    Conversion,
    ToolkitError,
    convert,
    images_in,
)
from is21.schemas.settings import Settings
from is21.workers.manifest import (
    Converted,
    ModelError,
    ModelSpec,
    load_manifest,
    manifest_path,
    sha256_of,
)
from is21.workers.sample_check import sample_jpeg

FORMATS = ("yolox", "yolov8", "yolov8-rknn")
REFUSED = {
    "yolov8": (
        "a plain Ultralytics yolov8 export ends in one [1, 84, N] tensor holding box pixels "
        "(0..640) and class probabilities (0..1) together; int8 leaves the probabilities "
        "a handful of distinct values. Export it with rknn_model_zoo's Ultralytics fork "
        "(9 outputs) and convert that with --format yolov8-rknn"
    )
}
# What each source's ONNX wants multiplied into its uint8 pixels (the NPU does it).
SOURCE_INPUT_SCALE = {"yolox": 1.0, "yolov8-rknn": 1.0 / 255.0}


def input_size_of(source: Path) -> tuple[int, int]:
    if not source.is_file():
        raise ModelError(f"{source}: no such file")
    try:
        session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"{source}: not an ONNX model onnxruntime can load ({exc})") from exc
    shape = session.get_inputs()[0].shape
    if len(shape) != 4 or not all(isinstance(d, int) for d in shape) or shape[:2] != [1, 3]:
        raise ModelError(
            f"{source}: input shape {shape} is not a fixed [1, 3, H, W]; the NPU needs "
            f"static shapes: export the model with a fixed input size"
        )
    return int(shape[2]), int(shape[3])


def reference_spec(
    source: Path, fmt: str, size: tuple[int, int], manifest: Path, labels: Path | None
) -> ModelSpec:
    """The float model as the manifest knows it (labels, thresholds), found by sha256."""
    sha = sha256_of(source)
    known = [d for d in load_manifest(manifest).detector if d.sha256 == sha]
    if known:
        return known[0].model_copy(update={"format": fmt, "input_size": size, "previous": None})
    if labels is None:
        raise ModelError(
            f"{source} is in no detector of {manifest}: give its class names with "
            f"--labels FILE (one per line, in the model's class order)"
        )
    names = [line.strip() for line in labels.read_text().splitlines() if line.strip()]
    return ModelSpec(
        name=source.stem.replace(" ", "-")[:64],
        file=source.name,
        sha256=sha,
        backend="onnx",
        format=fmt,
        input_size=size,
        labels=names,
    )


def conversion_from(args: argparse.Namespace, settings: Settings) -> tuple[Conversion, ModelSpec]:
    source = Path(args.model)
    if args.format not in FORMATS:
        raise ModelError(f"unknown format {args.format!r} (known: {', '.join(FORMATS)})")
    if args.format in REFUSED:
        raise ModelError(f"refusing --format {args.format}: {REFUSED[args.format]}")
    if args.target not in TARGETS:
        raise ModelError(
            f"target {args.target!r} is not supported (the RK35xx chips rknn-toolkit-lite2 "
            f"runs on: {', '.join(TARGETS)})"
        )
    size = input_size_of(source)
    labels = Path(args.labels) if args.labels else None
    ref = reference_spec(source, args.format, size, manifest_path(settings.manifest), labels)
    layers = float_layers(args.float_layers)
    conversion = Conversion(
        source=source,
        format=args.format,
        target=args.target,
        input_size=size,
        num_classes=len(ref.labels),
        calibration=images_in(Path(args.calibration)),
        input_scale=SOURCE_INPUT_SCALE[args.format],
        float_layers=layers,
    )
    return conversion, ref


def float_layers(option: str) -> str | tuple[str, ...] | None:
    """``proposal``, ``none``, ``NAME,NAME``, or an entry ``convert`` wrote (its layers)."""
    if option in ("proposal", "none"):
        return None if option == "none" else option
    if option.endswith(".toml"):
        entry = load_manifest(Path(option)).detector[0]
        if entry.converted is None:
            raise ModelError(f"{option}: its detector records no conversion")
        recorded = entry.converted.float_layers
        return tuple(recorded) if isinstance(recorded, list) else recorded
    return tuple(option.split(","))


def converted_spec(ref: ModelSpec, conversion: Conversion, out: Path, name: str) -> ModelSpec:
    layers = conversion.float_layers
    return ref.model_copy(
        update={
            "name": name,
            "file": out.name,
            "sha256": sha256_of(out),
            "backend": "rknn",
            "format": CONVERTED_FORMAT[conversion.format],
            "previous": None,
            "converted": Converted(
                source_file=conversion.source.name,
                source_sha256=sha256_of(conversion.source),
                toolkit=TOOLKIT,
                target=conversion.target,
                dtype=conversion.dtype,
                algorithm=conversion.algorithm,
                float_layers=list(layers) if isinstance(layers, tuple) else (layers or []),
                calibration_images=len(conversion.calibration),
            ),
        }
    )


def convert_command(args: argparse.Namespace, settings: Settings) -> int:
    conversion, ref = conversion_from(args, settings)
    name = args.name or f"{ref.name}-{conversion.target}"
    out = Path(args.out or f"{conversion.source.stem}-{conversion.target}.rknn")
    conversion = convert(conversion, out)
    spec = converted_spec(ref, conversion, out, name)
    entry = out.with_suffix(".toml")
    entry.write_text(_toml_entry(spec))
    print(f"wrote {out} ({spec.sha256[:12]}) and its manifest entry {entry}")
    if not args.install:
        return 0
    result = compare(ref, conversion.source, conversion, conversion.calibration)
    print(format_table(result))
    if result["verdict"] != "pass":
        print("not installed: the converted model does not see what the float model sees")
        return 1
    installed = install_model(
        manifest_path(settings.manifest), settings.model_dir, out, name, sample_jpeg(), spec
    )
    print(
        f"installed {installed.name} as {installed.file} in {settings.model_dir}; on the "
        f"board: is21 models verify, then systemctl reload 'is21-worker@*'"
    )
    return 0


def compare_command(args: argparse.Namespace, settings: Settings) -> int:
    args.model = args.candidate
    conversion, _ = conversion_from(args, settings)
    reference = Path(args.reference)
    size = input_size_of(reference)
    labels = Path(args.labels) if args.labels else None
    ref = reference_spec(reference, args.format, size, manifest_path(settings.manifest), labels)
    limits = Thresholds(args.min_iou, args.max_drift)
    result = compare(ref, reference, conversion, images_in(Path(args.images)), limits)
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0 if result["verdict"] == "pass" else 1


def _toml_entry(spec: ModelSpec) -> str:
    import tomli_w

    return tomli_w.dumps({"detector": [spec.model_dump(mode="json", exclude_none=True)]})


def npu_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "convert":
            return convert_command(args, settings)
        return compare_command(args, settings)
    except ToolkitError as exc:
        raise ModelError(str(exc)) from exc
