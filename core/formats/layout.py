"""What belongs to an export's layout, and which of those files Masklet wrote (Qt-free).

Masklet marks what it writes, so that a later export can tell its own files from the user's:

- mask PNGs carry the PNG text chunk ``Software: Masklet`` (before the pixels, so reading it
  opens only the header); frame JPEGs carry the JPEG comment ``Masklet``;
- COCO and YouTube-VIS files say ``"info": {"description": "Masklet export", ...}``. SA-V's
  layout is the official one field for field and has no room for a mark, so any SA-V file
  counts as a previous SA-V export.

A folder format's layout, the only files an export there writes:

- ``davis``: indexed or grey PNGs named by a frame number (``00042.png``) directly in the folder;
- ``png``: folders named by a number (``000``), each holding such PNGs;
- ``frames`` (the video's frames beside a COCO or YouTube-VIS file): JPEGs named by a frame
  number that carry Masklet's JPEG comment. Unmarked JPEGs are never this layout's: they may be
  the video itself (a folder of frames), which no export replaces.

Everything else in the folder (``notes.txt``, a JPEG frame, a sub-folder of another name, a PNG
in colour) is the user's. Operating-system clutter (``.DS_Store``, ``Thumbs.db``, ``desktop.ini``)
is neither counted nor touched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

SOFTWARE = "Masklet"
JSON_MARK = "Masklet export"  # COCO / YouTube-VIS ``info.description``
TITLES = {"coco": "COCO", "ytvis": "YouTube-VIS", "sav": "SA-V", "davis": "DAVIS", "png": "per-object PNG",
          "frames": "video frames"}
FOLDER_FORMATS = frozenset({"davis", "png", "frames"})
IGNORED = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# the mask PNG modes our readers accept (see png_masks._load_indices): a colour PNG is a frame, not a mask
_MASK_MODES = ("P", "L", "1")
_NUMBERED_PNG = re.compile(r"\d+\.png", re.IGNORECASE)
_NUMBERED_JPEG = re.compile(r"\d+\.jpe?g", re.IGNORECASE)
# a JSON file larger than this is not parsed to recognise it (it is then "another file", which still
# only needs the same consent as a previous export); 1 GiB is far above any single video's annotation
_JSON_LIMIT = 1 << 30


def png_info() -> PngInfo:
    """The text chunk every mask PNG Masklet writes carries (``Software: Masklet``)."""
    info = PngInfo()
    info.add_text("Software", SOFTWARE)
    return info


def _mask_png(path: Path) -> str | None:
    """``"ours"`` (a mask PNG Masklet marked), ``"layout"`` (a mask PNG without the mark), or None."""
    if not (_NUMBERED_PNG.fullmatch(path.name) and path.is_file()):
        return None
    try:
        with Image.open(path) as image:
            if image.format != "PNG" or image.mode not in _MASK_MODES:
                return None
            return "ours" if image.info.get("Software") == SOFTWARE else "layout"
    except (OSError, ValueError):
        return None


def _frame_jpeg(path: Path) -> str | None:
    """``"ours"`` (a frame JPEG with Masklet's comment) or None (anything else, unmarked frames too)."""
    if not (_NUMBERED_JPEG.fullmatch(path.name) and path.is_file()):
        return None
    try:
        with Image.open(path) as image:
            return "ours" if image.format == "JPEG" and image.info.get("comment") == SOFTWARE.encode() else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class FolderScan:
    """What an existing folder holds for one folder format; paths relative to it, POSIX style.

    ours: layout files Masklet marked; layout: layout files without the mark; other: everything
    else (a folder is listed once, ``name/``); dirs: the layout's sub-folders (png: ``000`` ...).
    """

    ours: tuple[str, ...] = ()
    layout: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name not in IGNORED)


def scan_folder(folder: Path, fmt: str) -> FolderScan:
    """Sort ``folder``'s contents into Masklet's layout files, unmarked layout files and the rest."""
    found: dict[str, list[str]] = {"ours": [], "layout": [], "other": [], "dirs": []}

    def sort_file(path: Path, rel: str) -> None:
        found[(_frame_jpeg if fmt == "frames" else _mask_png)(path) or "other"].append(rel)

    for entry in _entries(folder):
        if fmt == "png" and entry.is_dir() and entry.name.isdigit():
            found["dirs"].append(entry.name)
            for child in _entries(entry):
                rel = f"{entry.name}/{child.name}"
                if child.is_dir():
                    found["other"].append(rel + "/")
                else:
                    sort_file(child, rel)
        elif entry.is_dir():
            found["other"].append(entry.name + "/")
        elif fmt in ("davis", "frames"):
            sort_file(entry, entry.name)
        else:
            found["other"].append(entry.name)
    return FolderScan(*(tuple(found[k]) for k in ("ours", "layout", "other", "dirs")))


def json_is_export(path: Path, fmt: str) -> bool:
    """Whether the file ``path`` is a previous ``fmt`` export (COCO, YouTube-VIS: Masklet's; SA-V: any)."""
    try:
        if path.stat().st_size > _JSON_LIMIT:
            return False
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if fmt == "sav":
        return "masklet" in data and "video_id" in data
    info = data.get("info")
    marked = isinstance(info, dict) and info.get("description") == JSON_MARK
    return marked and ("images" if fmt == "coco" else "videos") in data
