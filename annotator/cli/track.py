"""``masklet track VIDEO --prompts PROMPTS.json --checkpoint CKPT [--device auto|cpu|cuda|mps] --out PROJECT``.

Runs SAM 2 over a whole video without a window: every prompt of the prompts file is given
first (docs/prompts_json.md), then the objects are propagated forward from the earliest
prompted frame to the last frame and backward from that frame to the first (as the official
predictor does when asked for both directions), with a progress bar on stderr; the project
is saved at the end. VIDEO is a video file or a folder of frames.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from annotator.cli.args import CommandParser, parse
from annotator.cli.progress import TerminalBar
from annotator.cli.track_prompts import ObjectPrompts, PromptsError, check_against_video, read_prompts
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import PROJECT_SUFFIX, ProjectError, save_project
from core.types import FrameResult, ObjectMask

if TYPE_CHECKING:
    import torch

PROG = "masklet track"


def build_parser() -> CommandParser:
    parser = CommandParser(prog=PROG, description="Track objects through a video with SAM 2 and save a project.")
    parser.add_argument("video", metavar="VIDEO", help="a video file or a folder of frames")
    parser.add_argument("--prompts", required=True, metavar="PROMPTS.json", help="objects and their clicks/boxes")
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="a SAM 2 checkpoint (.pt)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="where the model runs (default auto: cuda, then mps, then cpu)")
    parser.add_argument("--out", required=True, metavar="PROJECT", help=f"the project file to write ({PROJECT_SUFFIX})")
    parser.add_argument("--force", action="store_true", help="replace PROJECT if it exists")
    return parser


def frames_to_process(start: int, frame_count: int) -> int:
    """Frames the two passes visit: start..last forward, then start..0 backward (none from frame 0)."""
    return (frame_count - start) + (start + 1 if start > 0 else 0)


def _entry(mask: ObjectMask, source: MaskSource) -> MaskEntry:
    return MaskEntry(rle=mask.rle, source=source, object_score=float(mask.object_score), iou=float(mask.iou))


def _store(doc: AnnotationDocument, result: FrameResult, prompted: set[tuple[int, int]]) -> None:
    for obj_id, mask in result.objects.items():
        source = MaskSource.PROMPTED if (obj_id, result.frame) in prompted else MaskSource.PROPAGATED
        doc.set_mask(obj_id, result.frame, _entry(mask, source))


def track(video: Path, objects: list[ObjectPrompts], checkpoint: Path, device: "torch.device", bar: TerminalBar) -> AnnotationDocument:
    """Prompt, propagate both ways, and return the document. Raises the caller's one-line errors."""
    from core.frames import fingerprint, open_frames  # heavy imports only once the arguments are fine
    from core.sam2.checkpoint import load_model
    from core.sam2.device import autocast
    from core.types import Direction
    from core.video import VideoSession

    frames = open_frames(video)
    try:
        info = frames.info
        check_against_video(objects, info.width, info.height, info.frame_count)
        model = load_model(checkpoint, device)
        doc = AnnotationDocument(VideoRef(str(video.absolute()), info.width, info.height, info.frame_count,
                                          info.fps, fingerprint(video)))
        session = VideoSession(model, frames)
        prompted = {(o.obj_id, p.frame) for o in objects for p in o.prompts}
        with autocast(device):
            for obj in objects:
                doc.add_object(obj.name, obj.category, obj_id=obj.obj_id)
                for prompt in obj.prompts:
                    doc.set_prompt(obj.obj_id, prompt.frame, prompt)
                    _store(doc, session.add_prompt(prompt), prompted)
            start = min(frame for _, frame in prompted)
            total = frames_to_process(start, info.frame_count)
            bar(0, total, "propagating")
            for done, result in enumerate(session.propagate(start, Direction.BOTH), start=1):
                _store(doc, result, prompted)
                bar(done, total, f"frame {result.frame}")
        return doc
    finally:
        frames.close()


def main(argv: Sequence[str]) -> int:
    args = parse(build_parser(), argv)
    if isinstance(args, int):
        return args
    out, video, checkpoint = Path(args.out), Path(args.video), Path(args.checkpoint)
    problem = None
    if out.exists() and not args.force:
        problem = f"{out} already exists (add --force to replace it)"
    elif not out.parent.is_dir():
        problem = f"the folder {out.parent} does not exist"
    elif not video.exists():
        problem = f"{video}: no such video file or frame folder"
    elif not checkpoint.is_file():
        problem = f"{checkpoint}: no such checkpoint file"
    if problem:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 1
    try:
        objects = read_prompts(Path(args.prompts))
    except PromptsError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    from core.frames import FrameSourceError  # torch and PyAV load from here on
    from core.sam2.checkpoint import CheckpointError
    from core.sam2.device import pick_device

    try:
        device = pick_device(args.device)
    except ValueError as exc:  # a device this machine does not have
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    try:
        doc = track(video, objects, checkpoint, device, TerminalBar(sys.stderr, "track"))
        save_project(doc, out)
    except (PromptsError, FrameSourceError, CheckpointError, ProjectError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"{PROG}: wrote {out}: {len(doc.objects)} objects, {doc.mask_count()} masks", file=sys.stderr)
    return 0
