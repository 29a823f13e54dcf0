"""``is21 models list | verify | install | rollback | convert | compare``."""

from __future__ import annotations

import argparse

from is21.ops.commands.base import Command
from is21.schemas.settings import Settings
from is21.workers.backends.rknn import BackendUnavailable
from is21.workers.manifest import ModelError

SAMPLE_HELP = "a JPEG to run (default: a generated image)"


class Models(Command):
    failures = ((ModelError, 2), (BackendUnavailable, 2), (FileNotFoundError, 1))

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="the detectors of the manifest")
        q = sub.add_parser("verify", help="check every file's sha256, load and run it")
        q.add_argument("--sample", help=SAMPLE_HELP)
        q = sub.add_parser("install", help="install FILE as the new weights of NAME")
        q.add_argument("file", help="the model file (.onnx or .rknn)")
        q.add_argument("--name", required=True, help="the detector it replaces or adds")
        q.add_argument("--sample", help=SAMPLE_HELP)
        q = sub.add_parser("rollback", help="restore the file NAME had before")
        q.add_argument("name", help="the detector to roll back")
        add_npu_commands(sub)

    def run(self, args: argparse.Namespace, settings: Settings) -> int:
        if args.action in ("convert", "compare"):
            from is21.ops.npu.convert import npu_command

            return npu_command(args, settings)
        from is21.ops.models import models_command

        return models_command(args, settings)


def add_npu_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``models convert | compare``: rknn-toolkit2 in its own venv, then the proof."""
    q = sub.add_parser("convert", help="convert an ONNX model for a Rockchip NPU")
    q.add_argument("model", help="the float ONNX model")
    q.add_argument("--out", help="the .rknn to write (default MODEL-TARGET.rknn here)")
    q.add_argument("--name", help="the detector's name (default: the float one's + -TARGET)")
    q.add_argument("--install", action="store_true", help="compare, then install if it passes")
    npu_options(q, "photos to calibrate int8 on (the cameras' own are best)")
    q = sub.add_parser("compare", help="the float model vs its conversion, on photos")
    q.add_argument("reference", help="the float ONNX model")
    q.add_argument("--candidate", required=True, help="the ONNX model to convert (often the same)")
    q.add_argument("--images", required=True, help="the photos to compare on")
    q.add_argument("--json", action="store_true", help="the figures as JSON")
    q.add_argument("--min-iou", type=float, default=0.9, help="median IoU of matched boxes")
    q.add_argument("--max-drift", type=float, default=0.05, help="median |score change|")
    npu_options(q, "the photos the conversion calibrates on")


def npu_options(q: argparse.ArgumentParser, calibration_help: str) -> None:
    q.add_argument("--target", default="rk3588", help="the chip (rk3588, rk3576, rk3566 ...)")
    q.add_argument("--format", required=True, help="yolox | yolov8 | yolov8-rknn")
    q.add_argument("--calibration", required=True, help=calibration_help)
    q.add_argument("--labels", help="class names, one per line, if the manifest lacks the model")
    q.add_argument(
        "--float-layers",
        default="proposal",
        help="layers kept float16: proposal (the toolkit's choice), none, NAME,NAME, or "
        "the ENTRY.toml convert wrote (the layers it chose)",
    )
