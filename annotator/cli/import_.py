"""``masklet import PATH --format sav|coco|ytvis|davis|png [--video VIDEO] --out PROJECT [--force]``.

Makes a project from a dataset, as the window's import dialog does. Without ``--video`` the
project knows its video only by size and length, and the window asks for the video when the
project is opened; with it, the video must match the masks (size, enough frames).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from annotator.cli.args import CommandParser, dataset_command, parse
from annotator.project import PROJECT_SUFFIX, ProjectError, save_project
from annotator.project_exchange import import_document
from core.formats import FormatError

PROG = "masklet import"


def build_parser() -> CommandParser:
    parser = dataset_command(PROG, "Make a Masklet project from a dataset.",
                             ("PATH", "the dataset: a JSON file (sav, coco, ytvis) or a folder (davis, png)"),
                             ("PROJECT", f"the project file to write ({PROJECT_SUFFIX})"))
    parser.add_argument("--video", metavar="VIDEO", help="the video file or frame folder the masks belong to")
    return parser


def main(argv: Sequence[str]) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"{PROG}: {out} already exists (add --force to replace it)", file=sys.stderr)
        return 1
    try:
        doc = import_document(Path(args.source), args.format, args.video)
        save_project(doc, out)
    except (ProjectError, FormatError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    objects, masks = len(doc.objects), doc.mask_count()
    where = "" if args.video else " (no video yet: the window asks for it when the project is opened)"
    print(f"{PROG}: wrote {out}: {objects} objects, {masks} masks{where}", file=sys.stderr)
    return 0
