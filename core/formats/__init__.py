"""Dataset formats (Qt-free): COCO, YouTube-VIS, SA-V JSON, DAVIS palette PNGs, SA-V per-object PNGs,
CVAT for video XML, Datumaro JSON, MOTS (PNG and txt), YOLO segmentation.

Every format reads and writes the plain :class:`~core.formats.dataset.Dataset`; the
annotator converts its document to and from it. Writers are atomic (see
:mod:`core.formats.atomic`) and write only where :mod:`core.formats.target` allows: never over
what Masklet did not write without the caller's consent. ``FORMATS`` names each format for the
command line and dialogs, and the default name of its output. What each keeps and loses:
docs/formats.md. Export options (stride, all frames, frame naming, video id): core.formats.options.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

from core.formats.coco import read_coco, write_coco
from core.formats.cvat_xml import read_cvat_xml, write_cvat_xml
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track
from core.formats.datumaro_json import read_datumaro, write_datumaro
from core.formats.layout import TITLES
from core.formats.mots import read_mots_png, read_mots_txt, write_mots_png, write_mots_txt
from core.formats.options import ExportOptions, as_options
from core.formats.png_masks import read_davis, read_object_pngs, write_davis, write_object_pngs
from core.formats.sav import read_sav, write_sav
from core.formats.target import ExportTarget, TargetExists, TargetState, claim_target, inspect_target
from core.formats.yolo_seg import read_yolo_seg, write_yolo_seg
from core.formats.ytvis import read_ytvis, write_ytvis
from core.types import CancelCheck, ProgressCallback
from core.validation.bounds import Invalid
from core.validation.dataset import check_dataset

_T = TypeVar("_T")

__all__ = [
    "FORMATS", "Dataset", "ExportCancelled", "FormatError", "Track", "DatasetFormat", "dataset_format", "export_dataset",
    "import_dataset", "ExportOptions", "ExportTarget", "TargetExists", "TargetState", "claim_target", "inspect_target",
]


@dataclass(frozen=True)
class DatasetFormat:
    """One format: its command-line name, a label, whether it is a folder, and its reader/writer.

    write(dataset, out, options, overwrite, progress, cancel); read(path) -> Dataset.
    suffix: the file name's ending of a file format (``.json``, ``.xml``, ``.txt``).
    """

    name: str
    label: str
    is_folder: bool
    write: Callable[..., None]
    read: Callable[[Path], Dataset]
    suffix: str = ".json"

    @property
    def title(self) -> str:
        """The short name in messages: ``COCO``, ``DAVIS``, ``per-object PNG``."""
        return TITLES[self.name]

    def output_name(self, stem: str) -> str:
        """The default file or folder name of a video's export: ``bedroom.coco.json``, ``bedroom_davis``.

        Each format has its own, so exports in different formats never land on one another.
        """
        tag = self.name.split("_")[0]  # mots_txt: bedroom.mots.txt
        return f"{stem}_{self.name}" if self.is_folder else f"{stem}.{tag}{self.suffix}"


FORMATS: dict[str, DatasetFormat] = {
    f.name: f
    for f in (
        DatasetFormat("coco", "COCO instance segmentation (JSON)", False, write_coco, read_coco),
        DatasetFormat("ytvis", "YouTube-VIS (JSON)", False, write_ytvis, read_ytvis),
        DatasetFormat("sav", "SA-V (JSON)", False, write_sav, read_sav),
        DatasetFormat("davis", "DAVIS palette PNGs (folder)", True, write_davis, read_davis),
        DatasetFormat("png", "per-object PNGs, SA-V layout (folder)", True, write_object_pngs, read_object_pngs),
        DatasetFormat("cvat", "CVAT for video 1.1 (XML)", False, write_cvat_xml, read_cvat_xml, ".xml"),
        DatasetFormat("datumaro", "Datumaro (JSON)", False, write_datumaro, read_datumaro),
        DatasetFormat("mots", "MOTS 16-bit PNGs (folder)", True, write_mots_png, read_mots_png),
        DatasetFormat("mots_txt", "MOTS txt (COCO RLE per line)", False, write_mots_txt, read_mots_txt, ".txt"),
        DatasetFormat("yolo", "YOLO segmentation polygons (folder)", True, write_yolo_seg, read_yolo_seg),
    )
}


def dataset_format(name: str) -> DatasetFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r} (one of {', '.join(FORMATS)})") from None


def export_dataset(dataset: Dataset, name: str, out: Path, stride: ExportOptions | int = 1, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    """Write ``dataset`` in format ``name`` to ``out`` (a file or a folder), all or nothing.

    stride: the export's options (core.formats.options.ExportOptions), or just the stride.
    ``overwrite`` is the user's consent to replace a previous export (see core.formats.target);
    without it that raises TargetExists, and a place that is not Masklet's raises FormatError either way.
    """
    try:  # bounds and finite values before any work (core.validation.dataset, issue 21)
        check_dataset(dataset)
    except Invalid as exc:
        raise FormatError(f"{out}: not written, {exc}") from None
    dataset_format(name).write(dataset, Path(out), as_options(stride), overwrite, progress, cancel)


def import_dataset(path: Path, name: str, video_id: int | None = None) -> Dataset:
    """Read a dataset in format ``name`` from ``path``; ``video_id`` picks a video of a YouTube-VIS file."""
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path} does not exist")
    if video_id is not None and name != "ytvis":
        raise FormatError(f"only YouTube-VIS files hold several videos; {TITLES[name]} has no --video-id")
    return checked_read(path, name, lambda: read_ytvis(path, video_id) if video_id is not None
                        else dataset_format(name).read(path))


def checked_read(path: Path, name: str, read: Callable[[], _T]) -> _T:
    """``read()`` with whatever a malformed file makes a reader raise turned into one FormatError
    line naming the file, and each dataset it gives checked (core.validation.dataset, issue 21)."""
    try:
        result = read()
        for dataset in result if isinstance(result, list) else [result]:
            check_dataset(dataset)
        return result
    except FormatError as exc:
        message = str(exc)
        raise FormatError(message if str(path) in message else f"{path}: {message}") from None
    except Invalid as exc:
        raise FormatError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError,
            MemoryError, UnicodeError, OSError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise FormatError(f"{path}: not a valid {TITLES.get(name, name)} file ({type(exc).__name__}: {detail})") from None
