"""The ``is21`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from is21.schemas.settings import Settings

# Commands that run under systemd and log JSON lines; the others talk to a person.
SERVICES = ("worker", "health")

if TYPE_CHECKING:  # argparse names the type of add_subparsers() only privately
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from is21.workers.worker import run_worker

    if args.backend:
        settings = settings.model_copy(update={"backend": args.backend})
    run_worker(settings, name=args.name, queue=args.queue, burst=args.burst, npu_core=args.npu_core)
    return 0


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.detect import detect_files

    return detect_files(settings, args.images, as_json=args.json)


def cmd_submit(args: argparse.Namespace, settings: Settings) -> int:
    from is21.producer import FrameProducer

    producer = FrameProducer.from_settings(settings)
    status = 0
    for image in args.images:
        ticket = producer.submit(args.camera, Path(image).read_bytes(), request_id=args.request_id)
        if ticket.fallback is not None:
            print(f"is21: {image} not submitted: {ticket.fallback.error}", file=sys.stderr)
            status = 1
        elif args.wait:
            print(producer.wait(ticket, timeout=args.wait).model_dump_json())
        else:
            print(
                json.dumps(
                    {"camera_id": ticket.camera_id, "frame_id": ticket.frame_id, "seq": ticket.seq}
                )
            )
    return status


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from is21.producer import FrameProducer
    from is21.producer.replay import load_photos, replay

    producer = FrameProducer.from_settings(settings)
    report = replay(
        producer,
        load_photos(Path(args.dir)),
        cameras=args.cameras,
        fps=args.fps,
        seconds=args.seconds,
    )
    total = sum(report.submitted.values())
    print(
        json.dumps(
            {
                "submitted": total,
                "seconds": round(report.seconds, 2),
                "fps": round(total / max(report.seconds, 1e-9), 2),
            }
        )
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.demo import run_demo

    return run_demo(settings, images=Path(args.images), cameras=args.cameras, workers=args.workers)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.bench import format_table, run_bench

    report = run_bench(
        settings,
        images=Path(args.images),
        workers=args.workers,
        cameras=[int(c) for c in args.cameras.split(",")],
        seconds=args.seconds,
        repeats=args.repeats,
    )
    print(json.dumps(report) if args.json else format_table(report))
    return 0


def cmd_soak(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.soak import run_soak

    report = run_soak(
        settings,
        images=Path(args.images),
        hours=args.hours,
        interval=args.interval,
        warmup=args.warmup,
        cameras=args.cameras,
        fps=args.fps,
        workers=args.workers,
        out_csv=Path(args.csv),
    )
    summary = report.as_dict()
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['samples']} samples in {args.csv}; after {args.warmup:.0f} s warm-up:")
        for key, slope in summary["slope_mb_per_hour"].items():
            grown = summary["growth_after_warmup_mb"][key]
            print(f"  {key:<14} slope {slope:+.2f} MB/hour, grew {grown:.2f} MB")
    return 0


def cmd_slo(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.slo import measure, render

    rows = measure(args.prometheus, args.window)
    print(json.dumps(rows) if args.json else render(rows, args.window))
    return 1 if any(r["met"] is False for r in rows) else 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.health import serve_health

    serve_health(settings, host=args.host, port=args.port)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.status import run_status
    from is21.protocol.connection import connect

    client = connect(settings.effective_redis_url, timeout=2.0, retries=1)
    run_status(client, settings, once=args.once, as_json=args.json)
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.retention import run_retention
    from is21.protocol.connection import connect

    client = connect(settings.effective_redis_url)
    report = run_retention(client, settings, dry_run=args.dry_run).as_dict()
    if args.json:
        print(json.dumps(report))
    else:
        verb = "would remove" if args.dry_run else "removed"
        for kind in ("frames", "results", "events"):
            print(
                f"{kind:<8} {verb} {report[kind]['entries']:>9} entries "
                f"{report[kind]['bytes']:>12} bytes"
            )
        for skipped in report["skipped"]:
            print(f"skipped  {skipped}", file=sys.stderr)
    return 1 if report["skipped"] else 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from is21.producer import FrameProducer
    from is21.protocol.schema_store import SchemaError, read_schema_file

    producer = FrameProducer.from_settings(settings)
    if args.action == "show":
        print(producer.current_schema().model_dump_json(indent=2))
        return 0
    try:
        schema = producer.push_schema(read_schema_file(Path(args.file)))
    except SchemaError as exc:
        print(f"is21: {exc}", file=sys.stderr)
        return 1
    print(f"event schema {schema.version} stored; workers use it from their next frame")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.backup import backup_command

    return backup_command(args, settings)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.models import models_command

    return models_command(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="is21", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_fleet_commands(sub)
    add_operator_commands(sub)
    add_backup_commands(sub)
    add_measuring_commands(sub)
    return parser


def add_fleet_commands(sub: Subparsers) -> None:
    """The frame path: a worker, the detectors alone, frames in, the demo."""

    p = sub.add_parser("worker", help="run one detection worker (an RQ SimpleWorker)")
    p.add_argument("--name", help="name shown in rq info (default HOST.npuK or HOST.pidP)")
    p.add_argument("--npu-core", help="NPU core 0/1/2, auto or all (systemd instance %%i)")
    p.add_argument("--backend", choices=["onnx", "rknn"], help="default IS21_BACKEND or onnx")
    p.add_argument("--queue", help="RQ queue (default IS21_QUEUE or 'is21')")
    p.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("detect", help="run the detectors on image files, without Redis")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("submit", help="submit image files as frames of one camera")
    p.add_argument("--camera", required=True)
    p.add_argument("--request-id")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for each result")
    p.add_argument("images", nargs="+")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("replay", help="replay a folder of photos as N cameras")
    p.add_argument("dir")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--fps", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=10.0)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("demo", help="embedded Redis + 2 workers + replayed cameras")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--cameras", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_demo)


def add_operator_commands(sub: Subparsers) -> None:
    """What an operator runs: health, status, retention, the schema, the models."""
    p = sub.add_parser("health", help="HTTP /healthz, /metrics, /v1/capabilities, /v1/schema")
    p.add_argument("--host", help="bind address (default IS21_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default IS21_PORT or 9000)")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("status", help="workers, queue, cameras and recent events")
    p.add_argument("--once", action="store_true", help="one table, no live view")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("retention", help="trim frames, results and events by age")
    p.add_argument("--dry-run", action="store_true", help="report, remove nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("schema", help="show or push the event schema")
    schema_sub = p.add_subparsers(dest="action", required=True)
    schema_sub.add_parser("show", help="print the schema in force, as push takes it")
    push = schema_sub.add_parser("push", help="validate and store a schema JSON file")
    push.add_argument("file")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("models", help="list, verify, install or roll back model files")
    models_sub = p.add_subparsers(dest="action", required=True)
    models_sub.add_parser("list", help="the detectors of the manifest")
    q = models_sub.add_parser("verify", help="check every file's sha256, load and run it")
    q.add_argument("--sample", help="a JPEG to run (default: a generated image)")
    q = models_sub.add_parser("install", help="install FILE as the new weights of NAME")
    q.add_argument("file")
    q.add_argument("--name", required=True)
    q.add_argument("--sample", help="a JPEG to run (default: a generated image)")
    q = models_sub.add_parser("rollback", help="restore the file NAME had before")
    q.add_argument("name")
    p.set_defaults(func=cmd_models)


def add_backup_commands(sub: Subparsers) -> None:
    """What a board needs to serve again: the models, the manifest, the schema."""
    p = sub.add_parser("backup", help="copy the manifest, its weights and the schema to DIR")
    p.add_argument("dir")
    p.add_argument("--include", nargs="*", default=[], help="operator files to keep too")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup into IS21_MODEL_DIR and Redis")
    p.add_argument("dir")
    p.set_defaults(func=cmd_backup)


def add_measuring_commands(sub: Subparsers) -> None:
    """The SLOs, the soak and the bench (docs/reliability.md, docs/performance.md)."""
    p = sub.add_parser("slo", help="the service levels over a window, from Prometheus")
    p.add_argument("--prometheus", default="http://127.0.0.1:9090", help="its base URL")
    p.add_argument("--window", default="30d", help="a PromQL duration (default 30d)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_slo)

    p = sub.add_parser("soak", help="run the fleet for hours; memory slope in MB/hour")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds left out of the slope")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--cameras", type=int, default=30)
    p.add_argument("--fps", type=float, default=1.0, help="frames per second per camera")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--csv", default="soak.csv")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_soak)

    p = sub.add_parser("bench", help="the detector alone vs the fleet, side by side")
    p.add_argument("--images", default="../shared/samples/coco")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cameras", default="1,8,30", help="comma-separated camera counts")
    p.add_argument("--seconds", type=float, default=8.0, help="measured seconds per phase")
    p.add_argument("--repeats", type=int, default=3, help="interleaved repeats (medians)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)


def main(argv: list[str] | None = None) -> int:
    import redis

    from is21.ops import logs
    from is21.ops.embedded_redis import RedisUnavailable
    from is21.producer.errors import FrameRejected, WaitTimeout
    from is21.workers.backends.rknn import BackendUnavailable
    from is21.workers.manifest import ModelError

    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as exc:
        print(f"is21: invalid settings: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    if args.command in ("worker", "health"):
        from is21.ops.sentry import setup_sentry

        setup_sentry(args.command)
    try:
        code: int = args.func(args, settings)
        return code
    except (ModelError, BackendUnavailable) as exc:
        if args.command in SERVICES:  # the journal's JSON lines say why it did not start
            logging.getLogger("is21.ops.cli").error("%s did not start: %s", args.command, exc)
        else:
            print(f"is21: {exc}", file=sys.stderr)
        return 2
    except (FrameRejected, WaitTimeout, FileNotFoundError, RedisUnavailable) as exc:
        print(f"is21: {exc}", file=sys.stderr)
        return 1
    except redis.ConnectionError as exc:
        print(f"is21: cannot reach Redis ({exc}); check IS21_REDIS_URL", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
