"""``masklet track VIDEO --prompts PROMPTS.json --checkpoint CKPT [--device auto|cpu|cuda|mps] --out PROJECT``.

(or ``--auto [--auto-frame N] [--auto-every K] [--auto-points P]`` instead of ``--prompts``: every
object the automatic mask generator finds, tracked both ways; annotator/auto_track.py.)

Runs SAM 2 over a whole video without a window, through the same session code as the window
(SessionController on an inline worker): every prompt of the prompts file is given first
(docs/prompts_json.md), then the objects are propagated forward from the earliest prompted
frame to the last frame and backward from that frame to the first (as the official predictor
does when asked for both directions), with a progress bar on stderr; the project is saved at
the end. VIDEO is a video file or a folder of frames.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from annotator.cli.args import CommandParser, parse
from annotator.cli.progress import TerminalBar
from annotator.cli.track_prompts import ObjectPrompts, PromptsError, check_against_video, read_prompts
from annotator.document import AnnotationDocument
from core.video.memory_policy import POLICY_NAMES
from annotator.labels import LabelError, LabelSchema, canonical_category, read_labels, with_labels
from annotator.project import PROJECT_SUFFIX, ProjectError, save_project

if TYPE_CHECKING:
    import torch

    from annotator.auto_objects import AutoSpec
    from annotator.model_loading import ModelLoader

PROG = "masklet track"


def build_parser() -> CommandParser:
    parser = CommandParser(prog=PROG, description="Track objects through a video with SAM 2 and save a project.")
    parser.add_argument("video", metavar="VIDEO", help="a video file or a folder of frames")
    parser.add_argument("--prompts", metavar="PROMPTS.json", help="objects and their clicks/boxes")
    auto = parser.add_argument_group("automatic objects (instead of --prompts)")
    auto.add_argument("--auto", action="store_true", help="find every object with the automatic mask generator, track each")
    auto.add_argument("--auto-frame", type=int, metavar="N", help="the frame to find objects on (default 0)")
    auto.add_argument("--auto-every", type=int, metavar="K", help="look again every K frames and add what no track covers")
    auto.add_argument("--auto-points", type=int, metavar="P", help="grid points per side (default 32)")
    auto.add_argument("--auto-settings", metavar="JSON", help="all settings as batch's \"auto\" object (docs/auto_objects.md)")
    parser.add_argument("--checkpoint", required=True, metavar="CKPT", help="a SAM 2 checkpoint (.pt)")
    parser.add_argument("--memory", default="sam2", choices=POLICY_NAMES,
                        help="memory policy for objects whose prompts name none (docs/memory_policies.md; default sam2)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="where the model runs (default auto: cuda, then mps, then cpu)")
    parser.add_argument("--out", required=True, metavar="PROJECT", help=f"the project file to write ({PROJECT_SUFFIX})")
    parser.add_argument("--force", action="store_true", help="replace PROJECT if it exists")
    parser.add_argument("--labels", metavar="LABELS.json",
                        help="the project's label schema (Labels… > Export); every object's category must be one of them")
    return parser


class TrackError(RuntimeError):
    """The model or the engine refused the work; the message is one line."""


def cli_loader(checkpoint: Path, device: "torch.device"):
    """The CLI's model loader: the checkpoint on ``device``, bfloat16 autocast where the device
    computes in it, no warm-up (nobody waits for a first click). ``masklet batch`` calls it once
    per worker and hands the loaded model to ``track`` for every video."""
    from annotator.model_loading import LoadedModel
    from core.sam2.checkpoint import load_model
    from core.sam2.device import autocast

    def load(selection: object) -> LoadedModel:
        return LoadedModel(load_model(checkpoint, device), str(device), lambda: autocast(device))

    return load


def track(video: Path, objects: list[ObjectPrompts], checkpoint: Path, device: "torch.device", bar: TerminalBar,
          loader: "ModelLoader | None" = None, auto: "AutoSpec | None" = None, memory: str = "sam2") -> AnnotationDocument:
    """Prompt, propagate both ways, and return the document. Raises the caller's one-line errors.

    loader: where the model comes from (default: ``cli_loader``, the checkpoint loaded now);
    ``masklet batch`` passes one that hands out the model its worker loaded once.
    auto: find the objects automatically instead (annotator/auto_track.py; ``objects`` unused).
    memory: the memory policy (core.video.memory_policy) of objects whose prompts name none.
    """
    from annotator.model_loading import make_engine, open_frames
    from annotator.session_controller import SessionController
    from annotator.worker import InlineWorker
    from core.checkpoints.runtime import ModelSelection
    from core.sam2.checkpoint import CheckpointError
    from core.types import Direction

    worker = InlineWorker(loader=loader or cli_loader(checkpoint, device), factory=make_engine, opener=open_frames)
    session = SessionController(worker)
    errors: list[str] = []
    worker.worker.failed.connect(errors.append)
    session.runs.progress.connect(lambda p: bar(p.done, p.total, "propagating"))
    try:
        session.model_status.load(ModelSelection(checkpoint))
        if not session.model_status.is_ready:
            raise CheckpointError(session.model_status.message)
        session.open_video(str(video))
        info = session.video
        assert info is not None
        if auto is not None:  # automatic objects (annotator/auto_track.py)
            from annotator.auto_track import AutoTrackError, track_auto

            try:
                track_auto(session, auto, bar)
            except (AutoTrackError, ValueError) as exc:
                raise TrackError(errors[0] if errors else str(exc)) from None
            return session.doc.document
        check_against_video(objects, info.width, info.height, info.frame_count)
        for obj in objects:
            session.add_object(obj.name, obj.category, obj_id=obj.obj_id)
            session.edit_object(obj.obj_id, memory=obj.memory or memory)
            for prompt in obj.prompts:
                session.set_frame(prompt.frame)
                session.prompts.give(prompt)
                if errors:
                    raise TrackError(errors[0])
        session.set_frame(min(p.frame for o in objects for p in o.prompts))
        ended: list[tuple[bool, int]] = []
        session.runs.finished.connect(lambda cancelled, frames: ended.append((cancelled, frames)))
        session.runs.propagate(Direction.BOTH)
        if not ended or ended[0][0]:
            raise TrackError(errors[0] if errors else "propagation stopped early")
        return session.doc.document
    finally:
        session.shutdown()


def _auto_spec(args: object) -> "AutoSpec":
    """The --auto options as an AutoSpec (ValueError, one line, for a bad value)."""
    import json

    from annotator.auto_objects import AutoSpec

    settings: dict[str, object] = {}
    text = getattr(args, "auto_settings")
    if text:
        try:
            settings = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--auto-settings is not JSON: {exc}") from None
        if not isinstance(settings, dict):
            raise ValueError("--auto-settings must be a JSON object, e.g. '{\"pred_iou_thresh\": 0.7}'")
    for flag, key in (("auto_frame", "frame"), ("auto_every", "every"), ("auto_points", "points_per_side")):
        if getattr(args, flag) is not None:
            settings[key] = getattr(args, flag)
    return AutoSpec.from_json(settings)


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
    if args.auto and args.memory != "sam2":
        print(f"{PROG}: --memory applies to the objects of --prompts (automatic objects are tracked with sam2)", file=sys.stderr)
        return 1
    if (args.prompts is None) == (not args.auto):
        print(f"{PROG}: give either --prompts PROMPTS.json or --auto", file=sys.stderr)
        return 1
    auto_spec = None
    try:
        if args.auto:
            auto_spec = _auto_spec(args)
            objects: list[ObjectPrompts] = []
        else:
            objects = read_prompts(Path(args.prompts))
    except (PromptsError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    try:  # the label schema: categories in its spelling, or a clear error before any work
        labels = read_labels(args.labels) if args.labels else LabelSchema()
        objects = [replace(o, category=canonical_category(labels, o.category)) for o in objects]
    except LabelError as exc:
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
        doc = track(video, objects, checkpoint, device, TerminalBar(sys.stderr, "track"), auto=auto_spec, memory=args.memory)
        with_labels(doc, labels)
        save_project(doc, out)
    except (PromptsError, FrameSourceError, CheckpointError, ProjectError, TrackError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    print(f"{PROG}: wrote {out}: {len(doc.objects)} objects, {doc.mask_count()} masks", file=sys.stderr)
    return 0
