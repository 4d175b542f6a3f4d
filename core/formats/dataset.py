"""The plain dataset record every format reads and writes, and the errors formats raise.

A :class:`Dataset` is one video's annotation, independent of Masklet's document: the
annotator converts its document to and from it, and each format module only knows this
record. Track ids are positive (1-based); formats whose own ids start at 0 (SA-V masklet
ids, SA-V per-object folders) shift by one when they read and write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.formats.rle_check import first_invalid
from core.masks import Rle


class FormatError(ValueError):
    """A dataset that cannot be read or written; the message is one line for the user."""


class ExportCancelled(Exception):
    """The caller's cancel check asked an export to stop; nothing was written."""


@dataclass
class Track:
    """One object through the video.

    masks: frame index -> mask at video size. An empty mask means "annotated, absent";
    a frame missing from the dict was not annotated.
    edited_frames: frames on which a person prompted or edited the mask (SA-V counts them).
    attributes: format-specific extras kept through a round trip (JSON-able values), for
    example ``sav.type``, ``sav.edited_frame_count``, ``sav.stability_score``.
    """

    track_id: int
    name: str
    category: str = "object"
    masks: dict[int, Rle] = field(default_factory=dict)
    edited_frames: frozenset[int] = frozenset()
    attributes: dict[str, object] = field(default_factory=dict)
    # frame -> the object's label attribute values on that frame (per object and per frame, from the
    # project's label schema), written where a format has a place per annotation (COCO "attributes")
    frame_attributes: dict[int, dict[str, object]] = field(default_factory=dict)


@dataclass
class Dataset:
    """One video's tracks. width/height: pixels; fps: frames per second (0 when unknown).

    name: the video's id in the dataset (SA-V ``video_id``, file-name prefix in COCO).
    attributes: video-level extras kept through a round trip (``sav.video_environment``, ...).
    """

    name: str
    width: int
    height: int
    frame_count: int
    fps: float
    tracks: list[Track] = field(default_factory=list)
    attributes: dict[str, object] = field(default_factory=dict)

    def selected_frames(self, stride: int = 1) -> range:
        """Frames an export writes: 0, stride, 2*stride, ... below frame_count."""
        if stride < 1:
            raise FormatError(f"the stride must be a positive integer, got {stride}")
        return range(0, self.frame_count, stride)

    def check_masks(self) -> None:
        """Every mask must be at video size and on a frame of the video."""
        for track in self.tracks:
            if track.track_id <= 0:
                raise FormatError(f"track ids are positive integers, got {track.track_id}")
            for frame, rle in track.masks.items():
                if (rle.height, rle.width) != (self.height, self.width):
                    raise FormatError(
                        f"track {track.track_id} frame {frame}: mask is {rle.width}x{rle.height}, "
                        f"video is {self.width}x{self.height}"
                    )
                if not 0 <= frame < self.frame_count:
                    raise FormatError(f"track {track.track_id}: frame {frame} is outside 0..{self.frame_count - 1}")

    def check_rles(self) -> None:
        """Every mask read from a file must be a well-formed RLE of its stated size (see rle_check)."""
        where = [(t.track_id, f) for t in self.tracks for f in t.masks]
        bad = first_invalid([t.masks[f] for t in self.tracks for f in t.masks])
        if bad is not None:
            track_id, frame = where[bad]
            raise FormatError(f"track {track_id} frame {frame}: the RLE is malformed (its runs do not fill the mask)")


def frame_stem(frame: int) -> str:
    """File stem of a frame in DAVIS, SA-V and our COCO names: ``00042``."""
    return f"{frame:05d}"


_DIGITS = re.compile(r"(\d+)(?!.*\d)")


def frame_from_name(name: str) -> int:
    """The frame index in a file name: its last run of digits (``video/00042.jpg`` -> 42)."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    match = _DIGITS.search(stem)
    if match is None:
        raise FormatError(f"cannot tell the frame number from the file name {name!r}")
    return int(match.group(1))


FILE_ID_KEY = "file_id"  # track attribute: the dataset's own id where Masklet's differs (0-based files)


def renumber_tracks(ids: list[int]) -> dict[int, int]:
    """Map a dataset's own track ids to positive ids: kept when all are positive, else all shifted
    by the same amount so the smallest is 1 (order and gaps kept). Readers store a shifted id's
    original under ``attributes["file_id"]`` (:func:`keep_file_ids`) so a re-export writes it back."""
    unique = sorted(set(ids))
    if all(i > 0 for i in unique):
        return {i: i for i in unique}
    shift = 1 - unique[0]
    return {old: old + shift for old in unique}


def keep_file_ids(tracks: list[Track], ids: dict[int, int]) -> None:
    """Record each track's own id from the file where Masklet had to shift it (see renumber_tracks)."""
    original = {new: old for old, new in ids.items()}
    for track in tracks:
        if original.get(track.track_id, track.track_id) != track.track_id:
            track.attributes[FILE_ID_KEY] = original[track.track_id]


def file_id(track: Track) -> int:
    """The id an export writes for ``track`` in formats that carry object ids (COCO, YouTube-VIS,
    SA-V, CVAT, Datumaro): its id in the file it came from, else Masklet's object id."""
    value = track.attributes.get(FILE_ID_KEY)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else track.track_id
