"""Which device and precision the model runs with: the user's choice and its resolution.

Pure logic, no torch: the choice is a setting ("auto" unless overridden), the resolution
takes what the machine offers (``core.checkpoints.accelerate.probe_devices`` asks torch) and
picks cuda, then mps, then cpu; bfloat16 on cuda when the GPU supports it, float32
elsewhere. ``torch.compile`` is used only when asked for and only on cuda.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


class DeviceChoice(str, Enum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


class PrecisionChoice(str, Enum):
    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"


DEVICE_LABELS: dict[DeviceChoice, str] = {
    DeviceChoice.AUTO: "Automatic (CUDA, then Apple MPS, then CPU)",
    DeviceChoice.CPU: "CPU",
    DeviceChoice.CUDA: "NVIDIA GPU (CUDA)",
    DeviceChoice.MPS: "Apple GPU (MPS)",
}

PRECISION_LABELS: dict[PrecisionChoice, str] = {
    PrecisionChoice.AUTO: "Automatic (bfloat16 on CUDA, float32 elsewhere)",
    PrecisionChoice.FP32: "float32 (exact, slower)",
    PrecisionChoice.BF16: "bfloat16 (faster on recent GPUs, half the memory)",
}


@dataclass(frozen=True)
class ModelSelection:
    """What the Model dialog hands to the model worker: a checkpoint file and how to run it.

    path: an official-format checkpoint (``{"model": state_dict}``) already verified.
    compile: wrap the heavy modules in ``torch.compile`` (cuda only; the first frames are slow).
    """

    path: Path
    device: DeviceChoice = DeviceChoice.AUTO
    precision: PrecisionChoice = PrecisionChoice.AUTO
    compile: bool = False


@dataclass(frozen=True)
class DeviceProbe:
    """What this machine offers. cuda_bf16: the GPU computes in bfloat16 natively (Ampere or later)."""

    cuda: bool = False
    cuda_bf16: bool = False
    mps: bool = False
    cuda_name: str = ""


@dataclass(frozen=True)
class ResolvedRuntime:
    """What the model actually runs on. device: "cpu" | "cuda" | "mps"; precision: "fp32" | "bf16".

    note: one line explaining a fallback (the chosen device is absent), empty otherwise.
    """

    device: str
    precision: str
    compile: bool
    note: str = ""

    @property
    def label(self) -> str:
        """For the status bar: ``cuda · bf16 · compiled``."""
        parts = [self.device, self.precision]
        if self.compile:
            parts.append("compiled")
        return " · ".join(parts)


def resolve(device: DeviceChoice, precision: PrecisionChoice, compile: bool, probe: DeviceProbe) -> ResolvedRuntime:
    """Turn the user's choice into a concrete runtime on a machine offering ``probe``.

    A device that was asked for but is absent falls back to the automatic order, with a note.
    """
    note = ""
    available = {"cuda": probe.cuda, "mps": probe.mps, "cpu": True}
    if device is DeviceChoice.AUTO:
        chosen = next(name for name in ("cuda", "mps", "cpu") if available[name])
    elif available[device.value]:
        chosen = device.value
    else:
        chosen = next(name for name in ("cuda", "mps", "cpu") if available[name])
        note = f"{device.value} is not available on this machine; running on {chosen}"
    if precision is PrecisionChoice.AUTO:
        chosen_precision = "bf16" if chosen == "cuda" and probe.cuda_bf16 else "fp32"
    else:
        chosen_precision = precision.value
    if chosen_precision == "bf16" and chosen == "cuda" and not probe.cuda_bf16:
        note = "; ".join(filter(None, [note, "this GPU has no native bfloat16; it will be slow"]))
    return ResolvedRuntime(device=chosen, precision=chosen_precision, compile=compile and chosen == "cuda", note=note)


def selection_from_strings(path: str, device: str, precision: str, compile: bool = False) -> ModelSelection:
    """Build a selection from stored strings; unknown values fall back to automatic."""
    try:
        device_choice = DeviceChoice(device)
    except ValueError:
        device_choice = DeviceChoice.AUTO
    try:
        precision_choice = PrecisionChoice(precision)
    except ValueError:
        precision_choice = PrecisionChoice.AUTO
    return ModelSelection(path=Path(path), device=device_choice, precision=precision_choice, compile=compile)
