"""``masklet import PATH --format FORMAT [--video VIDEO] [--video-id N] --out PROJECT [--force]``.

Makes a project from a dataset. Without ``--video`` the project knows its video only by size
and length, and the window asks for the video when the project is opened; with it, the video
must match the masks (size, enough frames). A YouTube-VIS file holding several videos gives one
project per video, ``PROJECT``'s name with the video id added (``out.masklet`` ->
``out.v3.masklet``), unless ``--video-id`` picks one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from annotator.cli.args import CommandParser, dataset_command, parse, positive_int
from annotator.document import AnnotationDocument
from annotator.project import PROJECT_SUFFIX, ProjectError, relink_video, save_project
from annotator.project_exchange import import_document, import_documents
from core.formats import FormatError
from core.formats.coco import VIDEO_ID_KEY

PROG = "masklet import"


def build_parser() -> CommandParser:
    parser = dataset_command(PROG, "Make a Masklet project from a dataset.",
                             ("PATH", "the dataset: a JSON file (sav, coco, ytvis) or a folder (davis, png)"),
                             ("PROJECT", f"the project file to write ({PROJECT_SUFFIX})"))
    parser.add_argument("--video", metavar="VIDEO", help="the video file or frame folder the masks belong to")
    parser.add_argument("--video-id", type=positive_int, default=None, metavar="N",
                        help="ytvis: import only the video with this id (default: one project per video)")
    return parser


def _outputs(out: Path, docs: list[AnnotationDocument]) -> list[Path]:
    """One project path per document: ``out`` itself for one, ``out.v<id>.masklet`` for several videos."""
    if len(docs) == 1:
        return [out]
    return [out.with_name(f"{out.stem}.v{d.metadata.get(VIDEO_ID_KEY)}{out.suffix or PROJECT_SUFFIX}") for d in docs]


def main(argv: Sequence[str]) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    out = Path(args.out)
    try:
        if args.video_id is not None or args.format != "ytvis":
            docs = [import_document(Path(args.source), args.format, args.video, args.video_id)]
        else:
            docs = import_documents(Path(args.source), args.format)
            if args.video is not None and len(docs) > 1:
                raise FormatError(f"the file holds {len(docs)} videos; --video needs --video-id to say which")
            if args.video is not None:
                relink_video(docs[0], args.video)
        outputs = _outputs(out, docs)
        taken = [p for p in outputs if p.exists()]
        if taken and not args.force:
            print(f"{PROG}: {taken[0]} already exists (add --force to replace it)", file=sys.stderr)
            return 1
        for doc, path in zip(docs, outputs):
            save_project(doc, path)
    except (ProjectError, FormatError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    where = "" if args.video else " (no video yet: the window asks for it when the project is opened)"
    for doc, path in zip(docs, outputs):
        print(f"{PROG}: wrote {path}: {len(doc.objects)} objects, {doc.mask_count()} masks{where}", file=sys.stderr)
    return 0
