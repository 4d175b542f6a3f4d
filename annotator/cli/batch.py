"""``masklet batch MANIFEST --out DEST [...]`` and ``masklet batch --status DEST``: pre-label many videos on Ray.

MANIFEST is JSON Lines, one video a line (core.batch.manifest, docs/batch.md). Without
``--address`` a local Ray starts in this process with this machine's CPUs and GPUs; with
``--address auto`` or ``ray://host:port`` the run joins that cluster. Each worker slot loads the
model once and tracks whole videos with ``masklet track``'s session code (batch_tracker). A
result counts once its ``_SUCCESS`` marker is written; a rerun of the same command skips the
finished jobs and redoes the others. Failed jobs are in the ledger (``DEST/_ledger.jsonl``) and
the summary; the exit status is 1 when any job failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from annotator.cli.args import CommandParser, count, parse, positive_int
from annotator.project import PROJECT_SUFFIX

PROG = "masklet batch"
PROJECT_FORMAT = "masklet"  # the project file, always written


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be between 0 and 64, got {value:g}")
    return value


def _formats(text: str) -> tuple[str, ...]:
    from core.formats import FORMATS

    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n != PROJECT_FORMAT and n not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or repr(text)} "
                                         f"(choose from {', '.join([PROJECT_FORMAT, *FORMATS])})")
    return tuple(dict.fromkeys(n for n in names if n != PROJECT_FORMAT))


def build_parser() -> CommandParser:
    from core.checkpoints.catalogue import DEFAULT_NAME
    from core.video.memory_policy import DEFAULT_POLICY, POLICY_NAMES

    parser = CommandParser(prog=PROG, description="Track the videos of a manifest on Ray (a local one by default) "
                           "and write a project per video.")
    parser.add_argument("manifest", nargs="?", metavar="MANIFEST",
                        help='JSON Lines: {"video": PATH_OR_URL, "prompts": PATH_OR_OBJECT, "id": NAME} a line')
    parser.add_argument("--out", metavar="DEST", help="results folder or object store URL (s3://bucket/prefix)")
    parser.add_argument("--status", metavar="DEST", help="print the summary of a destination and exit")
    parser.add_argument("--address", metavar="ADDRESS",
                        help="join a Ray cluster: auto, or ray://host:port (default: start Ray on this machine)")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", metavar="NAME", help=f"a catalogue model (masklet models list; default {DEFAULT_NAME})")
    model.add_argument("--checkpoint", metavar="CKPT", help="a checkpoint file every worker can read")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where the model runs (default auto: a GPU when the worker slot has one)")
    parser.add_argument("--gpus-per-video", type=_fraction, metavar="F",
                        help="GPUs of a worker slot, fractions share a GPU (default: 1 on a cluster with GPUs, else 0)")
    parser.add_argument("--cpus-per-video", type=positive_int, default=1, metavar="N",
                        help="CPUs of a worker slot, also its torch threads (default 1)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="at most N worker slots (default: as many as the cluster holds)")
    parser.add_argument("--formats", type=_formats, default=(), metavar="LIST",
                        help=f"what to write per video, comma-separated: {PROJECT_FORMAT} (the {PROJECT_SUFFIX} "
                             "project, always) and dataset formats (coco, ytvis, sav, davis, png, ...)")
    parser.add_argument("--memory", default=DEFAULT_POLICY, choices=POLICY_NAMES, metavar="POLICY",
                        help=f"memory policy of every object: {', '.join(POLICY_NAMES)} (default {DEFAULT_POLICY})")
    parser.add_argument("--retries", type=count, default=2, metavar="N",
                        help="tries again after a transient failure: lost worker, out of memory, I/O (default 2)")
    return parser


def _model(args: argparse.Namespace):
    """The ModelRef of the flags; raises ValueError / OSError with a one-line message."""
    import os

    from core.batch.jobs import ModelRef
    from core.batch.keys import file_identity, is_url
    from core.checkpoints.catalogue import DEFAULT_NAME, find

    if args.checkpoint:
        location = args.checkpoint if is_url(args.checkpoint) else os.path.abspath(args.checkpoint)
        if is_url(location):
            raise ValueError(f"{args.checkpoint}: give a checkpoint path every worker can read (or --model NAME)")
        if not os.path.isfile(location):
            raise ValueError(f"{args.checkpoint}: no such checkpoint file")
        return ModelRef(None, location, file_identity(location))
    entry = find(args.model or DEFAULT_NAME)  # UnknownModelError is a ValueError
    return ModelRef(entry.name, None, f"catalogue:{entry.name}:{entry.size_bytes}")


def _code() -> tuple[str, ...]:
    """The packages a cluster's workers get from this driver (Masklet's core and annotator)."""
    import annotator
    import core

    return (core.__path__[0], annotator.__path__[0])


def status(location: str) -> int:
    from core.batch.destination import Destination
    from core.batch.ledger import summarize

    summary = summarize(Destination(location))
    for line in summary.lines(location):
        print(line)
    return 1 if summary.failed or summary.unfinished else 0


def main(argv: Sequence[str]) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    if args.status:
        if args.manifest or args.out:
            print(f"{PROG}: --status DEST takes no MANIFEST or --out (see {PROG} --help)", file=sys.stderr)
            return 2
        try:
            return status(args.status)
        except OSError as exc:
            print(f"{PROG}: cannot read {args.status}: {exc}", file=sys.stderr)
            return 1
    if not args.manifest or not args.out:
        print(f"{PROG}: give MANIFEST and --out DEST, or --status DEST (see {PROG} --help)", file=sys.stderr)
        return 2
    from core.batch.driver import Cluster, run_batch
    from core.batch.jobs import BatchError, RunSettings
    from core.batch.manifest import ManifestError, read_manifest
    from core.batch.destination import Destination
    from core.batch.progress import ProgressDisplay

    try:
        jobs = read_manifest(args.manifest)
        settings = RunSettings(model=_model(args), device=args.device, formats=args.formats, memory=args.memory,
                               cpus_per_video=args.cpus_per_video, gpus_per_video=args.gpus_per_video,
                               retries=args.retries)
        destination = Destination(args.out)
    except (ManifestError, ValueError, OSError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    from annotator.cli.batch_tracker import make_tracker

    display = ProgressDisplay(sys.stderr)
    try:
        report = run_batch(jobs, settings, destination, make_tracker,
                           Cluster(address=args.address, workers=args.workers, code=_code()), display)
    except BatchError as exc:
        display.close()
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    display.close()
    from core.batch.jobs import JobStatus

    loads = f", model loaded in {max(report.load_seconds):.1f} s" if report.load_seconds else ""
    print(f"{PROG}: {len(jobs)} videos: {report.count(JobStatus.DONE)} done, {report.count(JobStatus.SKIPPED)} "
          f"skipped (finished before), {len(report.failed)} failed in {report.elapsed_s:.1f} s on {report.slots} "
          f"workers{loads}; results in {destination.location}", file=sys.stderr)
    for outcome in sorted(report.failed, key=lambda o: o.job_id):
        print(f"{PROG}: failed {outcome.job_id}: {outcome.error}", file=sys.stderr)
    return 1 if report.failed else 0
