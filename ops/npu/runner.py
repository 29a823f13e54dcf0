"""The half of ``is21 models convert | compare`` that runs inside the toolkit's venv.

rknn-toolkit2 pins numpy, onnx and torch to versions the fleet does not want, so it lives
in a venv of its own (scripts/setup-rknn-toolkit) and this script is all that runs there:
it imports only the toolkit, onnx and numpy, never is21. Everything the board does with a
frame (letterbox, decode, events) stays in the main venv; this side builds the model and,
for ``serve``, runs the toolkit's simulator on the tensors it is sent.

    python runner.py convert JOB.json    build, export the .rknn, print a JSON summary
    python runner.py serve JOB.json      build, then answer inference requests on stdin

The simulator only runs a model built in the same process from its source (``load_rknn``
then ``init_runtime()`` is refused), which is why ``serve`` builds instead of loading.

Requests and replies are length-prefixed ``.npz`` blobs (8 bytes big-endian, then the
bytes), loaded with ``allow_pickle=False``. The toolkit prints freely, so stdout is moved
to stderr at start and the replies go to a duplicate of the original stdout.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import numpy as np
import onnx
from onnx import shape_inference, utils


def dims(model: Any) -> dict[str, list[int]]:
    graph = model.graph
    infos = [*graph.value_info, *graph.output, *graph.input]
    return {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in infos}


def split_yolox_head(source: Path, target: Path) -> list[str]:
    """Cut YOLOX where each scale concatenates (box offsets, objectness, classes).

    Per-tensor int8 cannot hold box offsets (up to ~4) and probabilities (0..1) in one
    tensor: the objectness is left with ~22 distinct values. Ending the graph at the three
    parts of each scale gives nine outputs, each quantized on its own range; the fleet's
    ``yolox-rknn`` format decodes them. Returns the output names, stride 8 first.
    """
    model = shape_inference.infer_shapes(onnx.load(str(source)))
    shape = dims(model)
    producers = {out: node for node in model.graph.node for out in node.output}
    scales = []
    for node in model.graph.node:
        if node.op_type != "Concat" or len(node.input) != 3:
            continue
        box, obj, cls = node.input
        parts = [shape.get(name, []) for name in node.input]
        if not all(len(p) == 4 for p in parts) or [p[1] for p in parts[:2]] != [4, 1]:
            continue
        if not all(producers[n].op_type == "Sigmoid" for n in (obj, cls)):
            continue
        scales.append((parts[0][2], [box, obj, cls]))
    if len(scales) != 3:
        raise SystemExit(
            f"{source}: not a YOLOX head (found {len(scales)} of the 3 Concat(box, "
            f"sigmoid(obj), sigmoid(cls)) nodes the official export ends with)"
        )
    outputs = [name for _h, names in sorted(scales, key=lambda s: -s[0]) for name in names]
    inputs = [i.name for i in model.graph.input]
    utils.extract_model(str(source), str(target), inputs, outputs)
    return outputs


def configured(job: dict[str, Any]) -> Any:
    from rknn.api import RKNN

    rknn = RKNN(verbose=bool(job.get("verbose")))
    ret = rknn.config(
        mean_values=[[0, 0, 0]],  # the NPU turns the board's uint8 into what the ONNX wants
        std_values=[[job["std"]] * 3],
        target_platform=job["target"],
        quantized_dtype=job["dtype"],
        quantized_algorithm=job["algorithm"],
        quantized_method="channel",
    )
    if ret != 0:
        raise SystemExit(f"RKNN.config failed ({ret}) for target {job['target']}")
    return rknn


def build(job: dict[str, Any], workdir: Path) -> tuple[Any, list[str]]:
    """The toolkit object, built; and the layers kept float16 (named, even if proposed)."""
    source = Path(job["onnx"])
    if job["format"] == "yolox":
        cut = workdir / "split-head.onnx"
        split_yolox_head(source, cut)
        source = cut
    rknn = configured(job)
    if rknn.load_onnx(model=str(source)) != 0:
        raise SystemExit(f"RKNN.load_onnx({source}) failed")
    layers: list[str] = []
    if not job["quantize"] or job.get("float_layers") is None:
        ret = rknn.build(do_quantization=job["quantize"], dataset=job.get("dataset"))
    else:
        ret = rknn.hybrid_quantization_step1(
            dataset=job["dataset"],
            proposal=job["float_layers"] == "proposal",
            proposal_dataset_size=4,
        )
        rknn.release()
        rknn = configured(job)  # step 2 refuses a toolkit object that loaded a model
        if ret == 0:
            ret, layers = hybrid_step2(rknn, source, job["float_layers"], workdir)
    if ret != 0:
        raise SystemExit(f"RKNN.build failed ({ret})")
    return rknn, layers


def hybrid_step2(
    rknn: Any, source: Path, layers: str | list[str], workdir: Path
) -> tuple[int, list[str]]:
    """int8, but the named layers stay float16; step 1 left its files in ``workdir``.

    ``"proposal"`` keeps the toolkit's own choice, from its per-layer error on the dataset.
    """
    cfg = workdir / f"{source.stem}.quantization.cfg"
    if layers == "proposal":
        head = cfg.read_text().split("quantize_parameters:", 1)[0]
        layers = re.findall(r"^\s+'?([^':\s]+)'?:\s*float16", head, re.MULTILINE)
    else:
        head, rest = cfg.read_text().split("quantize_parameters:", 1)
        if not head.startswith("custom_quantize_layers:"):
            raise SystemExit(f"{cfg}: unexpected layout from hybrid_quantization_step1")
        entries = "".join(f"    '{name}': float16\n" for name in layers)
        cfg.write_text(f"custom_quantize_layers:\n{entries}quantize_parameters:{rest}")
    ret = rknn.hybrid_quantization_step2(
        model_input=str(workdir / f"{source.stem}.model"),
        data_input=str(workdir / f"{source.stem}.data"),
        model_quantization_cfg=str(cfg),
    )
    return int(ret), list(layers)


def read_blob(stream: IO[bytes]) -> bytes | None:
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack(">Q", head)
    return stream.read(size)


def write_blob(stream: IO[bytes], arrays: dict[str, Any]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def serve(rknn: Any, requests: IO[bytes], replies: IO[bytes]) -> None:
    if rknn.init_runtime() != 0:  # no target: the software simulator
        raise SystemExit("RKNN.init_runtime() (simulator) failed")
    write_blob(replies, {"ready": np.array(1)})
    while (blob := read_blob(requests)) is not None:
        pixels = np.load(io.BytesIO(blob), allow_pickle=False)["input"]
        outputs = rknn.inference(inputs=[pixels], data_format="nhwc")
        if outputs is None:
            write_blob(replies, {"error": np.array("RKNN.inference returned no outputs")})
            continue
        write_blob(replies, {f"out{i}": np.asarray(o) for i, o in enumerate(outputs)})


def main(argv: list[str]) -> int:
    command, job_file = argv
    job = json.loads(Path(job_file).read_text())
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the toolkit's prints go to stderr, never into a reply
    with tempfile.TemporaryDirectory(prefix="is21-rknn-") as tmp:
        os.chdir(tmp)  # the toolkit's hybrid step 1 writes into the working directory
        rknn, layers = build(job, Path(tmp))
        try:
            if command == "convert":
                if rknn.export_rknn(job["out"]) != 0:
                    raise SystemExit(f"RKNN.export_rknn({job['out']}) failed")
                replies.write(json.dumps({"float_layers": layers}).encode())
            elif command == "serve":
                serve(rknn, sys.stdin.buffer, replies)
            else:
                raise SystemExit(f"unknown command {command!r} (convert, serve)")
        finally:
            rknn.release()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
