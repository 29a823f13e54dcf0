"""``is21 models list | verify | install | rollback``: change weights without surprises.

Installing never overwrites a file a worker may be reading: the new weights get a name
of their own (``stem-<sha12>.ext``), are copied, fsynced, loaded and run on a sample, and
only then does one atomic manifest replace make them current. The manifest keeps the file
it replaced, so rollback is the same atomic step backwards. A crash at any point leaves
the manifest pointing at a complete, verified file.
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from is21.schemas.settings import Settings
from is21.workers.backends import check_available
from is21.workers.detector import Detector
from is21.workers.manifest import (
    Manifest,
    ModelError,
    ModelSpec,
    PreviousModel,
    fsync_dir,
    load_manifest,
    manifest_path,
    sha256_of,
    verify,
    write_manifest,
)
from is21.workers.sample_check import check_runs, sample_jpeg


@dataclass
class Check:
    name: str
    file: str
    ok: bool
    detail: str


def smoke_test(spec: ModelSpec, model_dir: Path, sample: bytes) -> str:
    """Load the model and run it once (workers/sample_check.py); raise ModelError."""
    detector = Detector.load(spec, model_dir, threads=1)
    try:
        return check_runs(detector, sample)
    finally:
        detector.backend.close()


def find(manifest: Manifest, name: str) -> int:
    for i, spec in enumerate(manifest.detector):
        if spec.name == name:
            return i
    raise ModelError(
        f"no detector named {name!r} in the manifest "
        f"(known: {', '.join(d.name for d in manifest.detector)})"
    )


def verify_models(
    manifest: Manifest, model_dir: Path, sample: bytes, runnable: set[str]
) -> list[Check]:
    """Every file against its sha256; those whose backend runs here, loaded and run too."""
    checks = []
    for spec in manifest.detector:
        try:
            verify(spec, model_dir)
            detail = (
                smoke_test(spec, model_dir, sample)
                if spec.backend in runnable
                else f"sha256 ok (backend {spec.backend} not runnable on this host)"
            )
            checks.append(Check(spec.name, spec.file, True, detail))
        except ModelError as exc:
            checks.append(Check(spec.name, spec.file, False, str(exc)))
    return checks


def runnable_here(backend: str) -> bool:
    try:
        check_available(backend)
    except RuntimeError:
        return False
    return True


def install_model(
    manifest_file: Path,
    model_dir: Path,
    source: Path,
    name: str,
    sample: bytes,
    entry: ModelSpec | None = None,
) -> ModelSpec:
    """Make ``source`` the weights of detector ``name``; ``entry`` describes a new model
    (``is21 models convert --install``), else the current entry's description is kept."""
    manifest = load_manifest(manifest_file)
    index = next((i for i, d in enumerate(manifest.detector) if d.name == name), None)
    if index is None and entry is None:
        find(manifest, name)  # raises, naming the detectors there are
    current = manifest.detector[index] if index is not None else None
    template = entry or current
    assert template is not None
    if not source.is_file():
        raise ModelError(f"{source}: no such file")
    sha = sha256_of(source)
    if current is not None and sha == current.sha256:
        raise ModelError(f"model {name}: {source} is already the installed file ({sha[:12]})")
    suffix = Path(template.file).suffix or source.suffix
    target = model_dir / f"{Path(template.file).stem.split('-')[0]}-{sha[:12]}{suffix}"
    tmp = model_dir / f".{target.name}.{os.getpid()}.tmp"
    previous = PreviousModel(file=current.file, sha256=current.sha256) if current else None
    new = template.model_copy(
        update={"name": name, "file": target.name, "sha256": sha, "previous": previous}
    )
    # The target may already exist: the file ``previous`` names, installed again. A
    # refused install removes only what it created, never a rollback target.
    created = not target.exists()
    try:
        if created:
            model_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            fsync_dir(model_dir)
        verify(new, model_dir)  # the file in place is the file we hashed
        if runnable_here(new.backend):  # else `is21 models verify` on the board runs it
            smoke_test(new, model_dir, sample)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if created:
            target.unlink(missing_ok=True)
        raise
    if index is None:
        manifest.detector.append(new)
    else:
        manifest.detector[index] = new
    write_manifest(manifest_file, manifest)  # the one commit point
    return new


def rollback_model(manifest_file: Path, model_dir: Path, name: str) -> ModelSpec:
    manifest = load_manifest(manifest_file)
    index = find(manifest, name)
    current = manifest.detector[index]
    if current.previous is None:
        raise ModelError(f"model {name}: nothing to roll back to (no previous file recorded)")
    back = current.model_copy(
        update={
            "file": current.previous.file,
            "sha256": current.previous.sha256,
            "previous": PreviousModel(file=current.file, sha256=current.sha256),
        }
    )
    verify(back, model_dir)  # the old file must still be there, unchanged
    manifest.detector[index] = back
    write_manifest(manifest_file, manifest)
    return back


def models_command(args: argparse.Namespace, settings: Settings) -> int:
    """``is21 models list | verify | install | rollback``."""

    path = manifest_path(settings.manifest)
    sample = Path(args.sample).read_bytes() if getattr(args, "sample", None) else sample_jpeg()
    if args.action == "list":
        for d in load_manifest(path).detector:
            prev = f"  previous {d.previous.file}" if d.previous else ""
            print(
                f"{d.name:<20} {d.file:<36} {d.sha256[:12]}  {d.backend:<5} {d.format:<12} "
                f"{'enabled' if d.enabled else 'disabled'}{prev}"
            )
        return 0
    if args.action == "verify":
        runnable = {backend for backend in ("onnx", "rknn") if runnable_here(backend)}
        checks = verify_models(load_manifest(path), settings.model_dir, sample, runnable)
        for c in checks:
            print(f"{'ok ' if c.ok else 'BAD'} {c.name:<20} {c.file:<36} {c.detail}")
        return 0 if all(c.ok for c in checks) else 1
    if args.action == "install":
        spec = install_model(path, settings.model_dir, Path(args.file), args.name, sample)
        print(
            f"model {spec.name} is now {spec.file} ({spec.sha256[:12]}); previous "
            f"{spec.previous.file if spec.previous else '-'} kept for rollback. Reload the "
            f"workers: systemctl reload 'is21-worker@*'"
        )
        return 0
    spec = rollback_model(path, settings.model_dir, args.name)
    print(
        f"model {spec.name} rolled back to {spec.file} ({spec.sha256[:12]}). Reload the "
        f"workers: systemctl reload 'is21-worker@*'"
    )
    return 0
