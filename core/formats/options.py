"""What an export writes besides the masks: which frames, how frames are named, which video id.

Every writer takes an :class:`ExportOptions` (or a bare stride, the older call). The frames an
export writes are the video's frames every ``stride`` frames that the project annotated (a mask,
empty or not, on at least one object); ``all_frames`` writes the unannotated ones too, as frames
where no object is present. A project with no annotated frame at all writes every selected frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import gcd

from core.formats.dataset import Dataset, FormatError, frame_stem

# How frame file names look (COCO ``file_name``, YouTube-VIS ``file_names``, Datumaro item ids).
MASKLET = "masklet"  # ``bedroom/00004.jpg``: the video's name, a folder of frames (SA-V, DAVIS)
CVAT_VIDEO = "cvat-video"  # ``frame_000004.jpg``: the names CVAT gives the frames of a video task
CVAT_IMAGE = "cvat-image"  # ``00004.jpg``: frames uploaded to a CVAT image task as single files
FRAME_NAMES = (MASKLET, CVAT_VIDEO, CVAT_IMAGE)


@dataclass(frozen=True)
class ExportOptions:
    """stride: every Nth frame (0, N, 2N, ...); all_frames: also the frames nobody annotated;
    frame_names: one of FRAME_NAMES, None for the names the dataset was imported with (else MASKLET);
    video_id: the YouTube-VIS / COCO video id (None: the imported one, else 1)."""

    stride: int = 1
    all_frames: bool = False
    frame_names: str | None = None
    video_id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.stride, int) or self.stride < 1:
            raise FormatError(f"the stride must be a positive integer, got {self.stride}")
        if self.frame_names is not None and self.frame_names not in FRAME_NAMES:
            raise FormatError(f"unknown frame naming {self.frame_names!r} (one of {', '.join(FRAME_NAMES)})")
        if self.video_id is not None and self.video_id < 1:
            raise FormatError(f"the video id must be a positive integer, got {self.video_id}")


def as_options(options: ExportOptions | int | None) -> ExportOptions:
    """Options from the older ``stride`` argument (an int) or None (the defaults)."""
    if options is None:
        return ExportOptions()
    if isinstance(options, ExportOptions):
        return options
    return ExportOptions(stride=int(options))


def with_stride(options: ExportOptions | int | None, stride: int) -> ExportOptions:
    return replace(as_options(options), stride=stride)


def annotated_frames(dataset: Dataset) -> set[int]:
    """Frames on which at least one track has a mask (an empty mask counts: "annotated, absent")."""
    return {frame for track in dataset.tracks for frame in track.masks}


def export_frames(dataset: Dataset, options: ExportOptions | int | None = None) -> list[int]:
    """The frames an export writes, ascending (see the module docstring)."""
    options = as_options(options)
    selected = dataset.selected_frames(options.stride)
    annotated = annotated_frames(dataset)
    if options.all_frames or not annotated:
        return list(selected)
    # as many steps as annotated frames, whatever frame count the project claims (issue 21)
    return sorted(f for f in annotated if 0 <= f < dataset.frame_count and f % selected.step == 0)


def effective_stride(frames: list[int], stride: int) -> int:
    """The largest step s (a multiple of ``stride``) with every frame in 0, s, 2s, ...: SA-V rows
    and CVAT's ``step=`` filter can only say "every s frames from 0"."""
    step = 0
    for frame in frames:
        step = gcd(step, frame)
    if step == 0:  # only frame 0 (or nothing): any step holds it; keep the one asked for
        return stride
    return step


def frame_file_name(dataset_name: str, frame: int, style: str, ext: str = "jpg") -> str:
    """The file name of ``frame`` in naming ``style`` (one of FRAME_NAMES)."""
    if style == CVAT_VIDEO:
        return f"frame_{frame:06d}.{ext}"
    if style == CVAT_IMAGE:
        return f"{frame_stem(frame)}.{ext}"
    return f"{dataset_name}/{frame_stem(frame)}.{ext}"


FILE_NAMES_KEY = "frame_file_names"  # dataset attribute: {str(frame): file name} as imported
NAMING_KEY = "frame_names"  # dataset attribute: the naming style the import found


def frame_names_style(options: ExportOptions, dataset: Dataset) -> str:
    """The naming an export uses: the one asked for, else the imported one, else MASKLET."""
    if options.frame_names is not None:
        return options.frame_names
    style = dataset.attributes.get(NAMING_KEY)
    return style if style in FRAME_NAMES else MASKLET


def file_names(dataset: Dataset, frames: list[int], options: ExportOptions) -> list[str]:
    """The file name of each frame: the imported one where the import kept it and no naming was asked
    for (a round trip gives the same names), else the naming style's."""
    style = frame_names_style(options, dataset)
    kept = dataset.attributes.get(FILE_NAMES_KEY) if options.frame_names is None else None
    kept = kept if isinstance(kept, dict) else {}
    return [str(kept.get(str(f)) or frame_file_name(dataset.name, f, style)) for f in frames]


def detect_naming(names: list[str]) -> tuple[str, str | None]:
    """(style, video name) of a list of frame file names: ``frame_000004.jpg`` -> CVAT video,
    ``00004.jpg`` -> CVAT image, ``bedroom/00004.jpg`` -> MASKLET with the video name ``bedroom``."""
    stems = [n.rsplit("/", 1)[-1] for n in names]
    if names and all(s.startswith("frame_") for s in stems) and all("/" not in n for n in names):
        return CVAT_VIDEO, None
    prefixes = {n.rsplit("/", 1)[0] if "/" in n else "" for n in names}
    if prefixes == {""}:
        return CVAT_IMAGE, None
    if len(prefixes) == 1:
        return MASKLET, prefixes.pop()
    return MASKLET, None


def remember_names(attributes: dict[str, object], frames: list[int], names: list[str]) -> str | None:
    """Keep the file names a dataset was imported with (in ``attributes``); returns the video name
    they give (their common folder), if any."""
    style, name = detect_naming(names)
    attributes[NAMING_KEY] = style
    expected = [frame_file_name(name or "", f, style) for f in frames]
    if names != expected:  # only what the naming rule would not give back
        attributes[FILE_NAMES_KEY] = {str(f): n for f, n in zip(frames, names)}
    return name
