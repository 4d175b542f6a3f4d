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
          "cvat": "CVAT XML", "datumaro": "Datumaro", "mots": "MOTS PNG", "mots_txt": "MOTS txt",
          "yolo": "YOLO segmentation", "frames": "video frames"}
FOLDER_FORMATS = frozenset({"davis", "png", "mots", "yolo", "frames"})
MOTS_DIR = "instances"  # MOTS PNG layout: instances/00000.png (16-bit) and instances/labels.txt
YOLO_LABELS = "labels/train"  # YOLO layout: data.yaml and labels/train/00000.txt
YAML_MARK = "# Masklet export"  # first line of the data.yaml Masklet writes
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


def _mots_png(path: Path) -> str | None:
    """A 16-bit MOTS PNG named by a frame number: ``"ours"`` (marked), ``"layout"`` or None."""
    if not (_NUMBERED_PNG.fullmatch(path.name) and path.is_file()):
        return None
    try:
        with Image.open(path) as image:
            if image.format != "PNG" or image.mode not in ("I;16", "I", "I;16B", "L", "P"):
                return None
            return "ours" if image.info.get("Software") == SOFTWARE else "layout"
    except (OSError, ValueError):
        return None


def _yaml_is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip() == YAML_MARK
    except (OSError, UnicodeDecodeError):
        return False


def _scan_nested(folder: Path, fmt: str, found: dict[str, list[str]]) -> None:
    """The MOTS and YOLO layouts: files in a fixed sub-folder plus one file beside it."""
    sub = MOTS_DIR if fmt == "mots" else YOLO_LABELS
    meta = f"{MOTS_DIR}/labels.txt" if fmt == "mots" else "data.yaml"
    ours_meta = fmt == "yolo" and _yaml_is_ours(folder / "data.yaml")
    listed: set[str] = set()
    layout_dir = folder / sub
    if layout_dir.is_dir():
        found["dirs"].extend([sub] if fmt == "mots" else [sub, "labels"])
        for child in _entries(layout_dir):
            rel = f"{sub}/{child.name}"
            listed.add(rel)
            if child.is_dir():
                found["other"].append(rel + "/")
            elif rel == meta:
                continue
            elif fmt == "mots":
                found[_mots_png(child) or "other"].append(rel)
            elif re.fullmatch(r"\d+\.txt", child.name):
                found["ours" if ours_meta else "layout"].append(rel)
            else:
                found["other"].append(rel)
    if (folder / meta).is_file():
        ours = ours_meta if fmt == "yolo" else bool(found["ours"])
        found["ours" if ours else "layout"].append(meta)
    top = {p.split("/", 1)[0] for p in (sub, meta)}
    for entry in _entries(folder):
        if entry.name in top:
            if entry.name == "labels" and fmt == "yolo":
                for child in _entries(entry):
                    if child.name != "train":
                        found["other"].append(f"labels/{child.name}" + ("/" if child.is_dir() else ""))
            continue
        found["other"].append(entry.name + ("/" if entry.is_dir() else ""))


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
    if fmt in ("mots", "yolo"):
        _scan_nested(folder, fmt, found)
        return FolderScan(*(tuple(found[k]) for k in ("ours", "layout", "other", "dirs")))

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


def _text_is_export(path: Path, fmt: str) -> bool:
    """CVAT XML: Masklet's comment near the top; MOTS txt: every line a MOTS line (no room for a mark)."""
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(4096) if fmt == "cvat" else handle.read(_JSON_LIMIT)
    except (OSError, UnicodeDecodeError):
        return False
    if fmt == "cvat":
        return "<annotations>" in head and f"<!--{JSON_MARK}-->" in head
    lines = [line.split() for line in head.splitlines() if line.strip()]
    return bool(lines) and all(len(p) == 6 and all(v.isdigit() for v in p[:5]) for p in lines)


def json_is_export(path: Path, fmt: str) -> bool:
    """Whether the file ``path`` is a previous ``fmt`` export (COCO, YouTube-VIS, Datumaro, CVAT XML:
    Masklet's; SA-V, MOTS txt: any)."""
    try:
        if path.stat().st_size > _JSON_LIMIT:
            return False
        if fmt in ("cvat", "mots_txt"):
            return _text_is_export(path, fmt)
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    if fmt == "sav":
        return "masklet" in data and "video_id" in data
    if fmt == "datumaro":
        infos = data.get("infos")
        return isinstance(infos, dict) and isinstance(infos.get("masklet"), dict) and "items" in data
    info = data.get("info")
    marked = isinstance(info, dict) and info.get("description") == JSON_MARK
    return marked and ("images" if fmt == "coco" else "videos") in data
