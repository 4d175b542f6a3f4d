"""The catalogue of official SAM 2 checkpoints (SAM 2 of July 2024, SAM 2.1 of September 2024).

File names and addresses are those of the official repository (facebookresearch/sam2,
README.md and checkpoints/download_ckpts.sh). Byte sizes are those the download server
announces for each file; they agree with each file's float32 parameter count plus a few
hundred kilobytes of zip and pickle overhead. Speed (frames per second on an A100) and
SA-V test J&F are the figures published in the official README.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ModelVersion(str, Enum):
    """SAM 2 release: 2.0 (July 2024) or 2.1 (September 2024, better on occlusions and small objects)."""

    SAM2 = "2.0"
    SAM2_1 = "2.1"


class ModelSize(str, Enum):
    """Hiera trunk size, fastest to most accurate (values as in ``core.sam2.config.SIZES``)."""

    TINY = "tiny"
    SMALL = "small"
    BASE_PLUS = "base_plus"
    LARGE = "large"

    @property
    def label(self) -> str:
        """As the official tables write it: ``base+``."""
        return "base+" if self is ModelSize.BASE_PLUS else self.value


@dataclass(frozen=True)
class CheckpointEntry:
    """One official checkpoint.

    name: the file name without ``.pt`` (``sam2.1_hiera_tiny``), used on the command line.
    size_bytes: exact file size in bytes as served by the official host.
    parameters: number of model parameters (all float32).
    speed_fps: official speed, frames per second on an A100 (higher is faster).
    sav_jf: official SA-V test J&F (higher is more accurate).
    """

    name: str
    file_name: str
    url: str
    size_bytes: int
    version: ModelVersion
    size: ModelSize
    parameters: int
    speed_fps: float
    sav_jf: float
    purpose: str

    @property
    def title(self) -> str:
        """Human label, e.g. ``SAM 2.1 tiny``."""
        return f"SAM {self.version.value} {self.size.label}"


_BASE_2_0 = "https://dl.fbaipublicfiles.com/segment_anything_2/072824/"
_BASE_2_1 = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"

_PURPOSE = {
    ModelSize.TINY: "fastest; good for interactive clicking on a laptop or CPU",
    ModelSize.SMALL: "fast; slightly better masks than tiny",
    ModelSize.BASE_PLUS: "balanced; better tracking through occlusions, needs a GPU to be pleasant",
    ModelSize.LARGE: "most accurate and slowest; for a strong GPU",
}


def _entry(version: ModelVersion, size: ModelSize, size_bytes: int, parameters: int, fps: float, jf: float) -> CheckpointEntry:
    prefix = "sam2.1" if version is ModelVersion.SAM2_1 else "sam2"
    name = f"{prefix}_hiera_{size.value}"
    base = _BASE_2_1 if version is ModelVersion.SAM2_1 else _BASE_2_0
    return CheckpointEntry(
        name=name,
        file_name=f"{name}.pt",
        url=f"{base}{name}.pt",
        size_bytes=size_bytes,
        version=version,
        size=size,
        parameters=parameters,
        speed_fps=fps,
        sav_jf=jf,
        purpose=_PURPOSE[size],
    )


_V21, _V20 = ModelVersion.SAM2_1, ModelVersion.SAM2
_T, _S, _B, _L = ModelSize.TINY, ModelSize.SMALL, ModelSize.BASE_PLUS, ModelSize.LARGE

# 2.1 first: it is the better release of every size. SAM 2.0 lacks two small tensors of 2.1
# (no_obj_embed_spatial and the object-pointer temporal projection: 16,512 parameters).
CATALOGUE: tuple[CheckpointEntry, ...] = (
    _entry(_V21, _T, 156_008_466, 38_962_754, 91.2, 76.5),
    _entry(_V21, _S, 184_416_285, 46_060_610, 84.8, 76.6),
    _entry(_V21, _B, 323_606_802, 80_850_434, 64.1, 78.2),
    _entry(_V21, _L, 898_083_611, 224_446_898, 39.5, 79.5),
    _entry(_V20, _T, 155_906_050, 38_946_242, 91.5, 75.0),
    _entry(_V20, _S, 184_309_650, 46_044_098, 85.6, 74.9),
    _entry(_V20, _B, 323_493_298, 80_833_922, 64.8, 74.7),
    _entry(_V20, _L, 897_952_466, 224_430_386, 39.7, 76.0),
)

DEFAULT_NAME = "sam2.1_hiera_tiny"


class UnknownModelError(ValueError):
    """A model name that is not in the catalogue; the message lists the valid names."""


def names() -> list[str]:
    """Every catalogue name, in catalogue order."""
    return [entry.name for entry in CATALOGUE]


def find(name: str) -> CheckpointEntry:
    """The entry called ``name`` (with or without ``.pt``, any case); UnknownModelError otherwise."""
    key = name.strip().lower()
    key = key[:-3] if key.endswith(".pt") else key
    for entry in CATALOGUE:
        if entry.name == key:
            return entry
    raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(names())}")


def default_entry() -> CheckpointEntry:
    """SAM 2.1 tiny: the fastest current model, the one a new user starts with."""
    return find(DEFAULT_NAME)


def match(version: ModelVersion, size: ModelSize) -> CheckpointEntry:
    """The official entry of one version and size."""
    for entry in CATALOGUE:
        if entry.version is version and entry.size is size:
            return entry
    raise UnknownModelError(f"no official checkpoint for SAM {version.value} {size.label}")
