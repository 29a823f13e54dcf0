"""What each ``is21`` command does, given its parsed arguments; ``ops/cli.py`` parses.

Each imports what it needs when it runs, so that ``is21 --help`` and a worker's start
load nothing they do not use.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from is21.schemas.settings import Settings


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


def cmd_chaos(args: argparse.Namespace, settings: Settings) -> int:
    """Needs root (network namespaces); the hosts, Redis and workers are its own, and are
    removed when it ends, also on SIGTERM (as on Ctrl-C)."""
    from is21.ops.chaos import run_chaos
    from is21.ops.chaos_report import format_ledger

    def terminate(_signum: int, _frame: object) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminate)
    run = run_chaos(Path(args.images), settings.model_dir, args.minutes, args.seed, args.interval)
    print(format_ledger(run))
    return 0 if run.balanced() and not run.unexplained_lost else 1


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


def cmd_npu(args: argparse.Namespace, settings: Settings) -> int:
    from is21.ops.npu.convert import npu_command

    return npu_command(args, settings)
