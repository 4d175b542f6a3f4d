"""``masklet export PROJECT --format FORMAT --out PATH [--stride N] [--all-frames] [--frame-names STYLE]
[--video-id N] [--frames] [--jpeg-quality Q] [--force]``.

Writes a project as a dataset, exactly as the window's export dialog does: all or nothing
(a temporary file or folder beside PATH, moved into place when complete). JSON formats write
one file; ``davis`` and ``png`` write a folder. ``--stride N`` keeps every Nth frame
(0, N, 2N, ...; SA-V's own data uses 4); the default is every frame. ``--frames`` (COCO and
YouTube-VIS) also writes those frames of the video as JPEGs where the file's ``file_name``s
point, ``NAME/00000.jpg`` beside PATH (``--jpeg-quality``, 1 to 95, default 90).

Only the frames the project annotated are written (a sparse project, SA-V's every 4th frame,
stays sparse); ``--all-frames`` writes the others too, as frames nobody is on. ``--frame-names``
names frames as CVAT does (``cvat-video``: ``frame_000004.jpg``; ``cvat-image``: ``00004.jpg``)
instead of ``NAME/00004.jpg``; ``--video-id`` sets the YouTube-VIS / COCO video id. Formats of one
object per pixel (davis, mots) print, per object, the pixels overlapping objects lose; yolo prints
what its polygons get wrong.

An existing PATH is replaced only with ``--force``, and only where it is a file, a previous
export of that format, or a folder holding only that format's files (core.formats.target):
a folder with anything else in it (``notes.txt``, the video's frames, another format's export)
is refused, one line on stderr and exit code 1, ``--force`` or not. Replacing a previous
folder export rewrites Masklet's files in it and keeps the others.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from annotator.cli.args import CommandParser, dataset_command, parse, positive_int
from annotator.cli.progress import TerminalBar
from annotator.project import ProjectError, load_project
from annotator.project_exchange import FrameImages, export_document, export_report
from core.formats import FormatError, TargetExists
from core.formats.options import FRAME_NAMES, ExportOptions
from core.formats.overlap import SINGLE_LABEL_FORMATS
from core.formats.frame_images import DEFAULT_QUALITY

PROG = "masklet export"


def build_parser() -> CommandParser:
    parser = dataset_command(PROG, "Write a Masklet project as a dataset.", ("PROJECT", "a .masklet project file"),
                             ("PATH", "the JSON file (coco, ytvis, sav) or folder (davis, png) to write"))
    parser.add_argument("--stride", type=positive_int, default=1, metavar="N",
                        help="export every Nth frame (default 1: every frame)")
    parser.add_argument("--all-frames", action="store_true",
                        help="also write the frames nobody annotated (default: only annotated frames)")
    parser.add_argument("--frame-names", choices=FRAME_NAMES, default=None, metavar="STYLE",
                        help="frame file names: masklet (NAME/00004.jpg), cvat-video (frame_000004.jpg, a CVAT "
                             "video task), cvat-image (00004.jpg, a CVAT image task); default: as imported, else masklet")
    parser.add_argument("--video-id", type=positive_int, default=None, metavar="N",
                        help="the video id in YouTube-VIS and COCO files (default: as imported, else 1)")
    parser.add_argument("--frames", action="store_true",
                        help="coco, ytvis: also write the video's frames as JPEGs where the file names point; "
                             "yolo: into its images/train")
    parser.add_argument("--jpeg-quality", type=positive_int, default=DEFAULT_QUALITY, metavar="Q",
                        help=f"JPEG quality of --frames, 1 to 95 (default {DEFAULT_QUALITY})")
    parser.epilog = ("--force replaces a file, a previous export of the format (keeping other files in its "
                     "folder) or a folder of only that format's files; a folder holding anything else is "
                     "never written into.")
    return parser


def main(argv: Sequence[str]) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        doc = load_project(Path(args.source)).document
        options = ExportOptions(args.stride, args.all_frames, args.frame_names, args.video_id)
        report = export_report(doc, args.format, options)
        for line in report:
            print(f"{PROG}: {line}", file=sys.stderr)
        if report and args.format in SINGLE_LABEL_FORMATS:
            print(f"{PROG}: (--format png writes it)", file=sys.stderr)
        bar = TerminalBar(sys.stderr, f"export {args.format}")
        frames = FrameImages(args.jpeg_quality, overwrite=args.force) if args.frames else None
        export_document(doc, args.format, Path(args.out), stride=options, overwrite=args.force, progress=bar,
                        frames=frames)
    except TargetExists as exc:
        print(f"{PROG}: {exc.target.message}; pass --force to replace it", file=sys.stderr)
        return 1
    except (ProjectError, FormatError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{PROG}: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{PROG}: wrote {args.out}", file=sys.stderr)
    return 0
