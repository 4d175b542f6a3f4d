"""Dataset formats (Qt-free): COCO, YouTube-VIS, SA-V JSON, DAVIS palette PNGs, SA-V per-object PNGs.

Every format reads and writes the plain :class:`~core.formats.dataset.Dataset`; the
annotator converts its document to and from it. Writers are atomic (see
:mod:`core.formats.atomic`) and write only where :mod:`core.formats.target` allows: never over
what Masklet did not write without the caller's consent. ``FORMATS`` names each format for the
command line and dialogs, and the default name of its output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.formats.coco import read_coco, write_coco
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track
from core.formats.layout import TITLES
from core.formats.png_masks import read_davis, read_object_pngs, write_davis, write_object_pngs
from core.formats.sav import read_sav, write_sav
from core.formats.target import ExportTarget, TargetExists, TargetState, claim_target, inspect_target
from core.formats.ytvis import read_ytvis, write_ytvis
from core.types import CancelCheck, ProgressCallback

__all__ = [
    "FORMATS", "Dataset", "ExportCancelled", "FormatError", "Track", "DatasetFormat", "dataset_format", "export_dataset",
    "import_dataset", "ExportTarget", "TargetExists", "TargetState", "claim_target", "inspect_target",
]


@dataclass(frozen=True)
class DatasetFormat:
    """One format: its command-line name, a label, whether it is a folder, and its reader/writer.

    write(dataset, out, stride, overwrite, progress, cancel); read(path) -> Dataset.
    """

    name: str
    label: str
    is_folder: bool
    write: Callable[..., None]
    read: Callable[[Path], Dataset]

    @property
    def title(self) -> str:
        """The short name in messages: ``COCO``, ``DAVIS``, ``per-object PNG``."""
        return TITLES[self.name]

    def output_name(self, stem: str) -> str:
        """The default file or folder name of a video's export: ``bedroom.coco.json``, ``bedroom_davis``.

        Each format has its own, so exports in different formats never land on one another.
        """
        return f"{stem}_{self.name}" if self.is_folder else f"{stem}.{self.name}.json"


FORMATS: dict[str, DatasetFormat] = {
    f.name: f
    for f in (
        DatasetFormat("coco", "COCO instance segmentation (JSON)", False, write_coco, read_coco),
        DatasetFormat("ytvis", "YouTube-VIS (JSON)", False, write_ytvis, read_ytvis),
        DatasetFormat("sav", "SA-V (JSON)", False, write_sav, read_sav),
        DatasetFormat("davis", "DAVIS palette PNGs (folder)", True, write_davis, read_davis),
        DatasetFormat("png", "per-object PNGs, SA-V layout (folder)", True, write_object_pngs, read_object_pngs),
    )
}


def dataset_format(name: str) -> DatasetFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"unknown format {name!r} (one of {', '.join(FORMATS)})") from None


def export_dataset(dataset: Dataset, name: str, out: Path, stride: int = 1, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    """Write ``dataset`` in format ``name`` to ``out`` (a file or a folder), all or nothing.

    ``overwrite`` is the user's consent to replace a previous export (see core.formats.target);
    without it that raises TargetExists, and a place that is not Masklet's raises FormatError either way.
    """
    dataset_format(name).write(dataset, Path(out), stride, overwrite, progress, cancel)


def import_dataset(path: Path, name: str) -> Dataset:
    """Read a dataset in format ``name`` from ``path``."""
    path = Path(path)
    if not path.exists():
        raise FormatError(f"{path} does not exist")
    return dataset_format(name).read(path)
