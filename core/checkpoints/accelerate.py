"""Ask torch what this machine offers, and the optional ``torch.compile`` on cuda.

Imports torch inside its functions so that importing ``core.checkpoints`` stays light; only
the model worker calls these.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Sequence

from core.checkpoints.runtime import DeviceProbe, ModelSelection, ResolvedRuntime, resolve

if TYPE_CHECKING:
    import torch

COMPILE_WARMUP_MESSAGE = "Compiling the model for this GPU (torch.compile); the first frames are slow, later ones fast"


def probe_devices() -> DeviceProbe:
    """What torch sees on this machine."""
    import torch

    cuda = bool(torch.cuda.is_available())
    mps_backend = getattr(torch.backends, "mps", None)
    return DeviceProbe(
        cuda=cuda,
        cuda_bf16=cuda and bool(torch.cuda.is_bf16_supported(including_emulation=False)),
        mps=bool(mps_backend is not None and mps_backend.is_available()),
        cuda_name=torch.cuda.get_device_name(0) if cuda else "",
    )


def resolve_here(selection: ModelSelection) -> ResolvedRuntime:
    """The runtime ``selection`` gets on this machine."""
    return resolve(selection.device, selection.precision, selection.compile, probe_devices())


def exact_float32(runtime: ResolvedRuntime) -> bool:
    """On CUDA in float32, turn TF32 off for matrix products and cuDNN convolutions; True when set.

    torch lets cuDNN convolutions run in TF32 by default, which rounds float32 inputs to 10-bit
    mantissas: the "float32 (exact)" choice then differed from the CPU by up to 1.5e-2 in the
    logits on an H100 (docs/benchmarks.md, GPU section). bfloat16 runs are left as they are.
    """
    if runtime.device != "cuda" or runtime.precision != "fp32":
        return False
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return True


def autocast(runtime: ResolvedRuntime) -> AbstractContextManager[object]:
    """The autocast context the model's forward passes run in: bfloat16 on the device, or none."""
    if runtime.precision != "bf16":
        return nullcontext()
    import torch

    return torch.autocast(device_type=runtime.device, dtype=torch.bfloat16)


def compile_modules(model: torch.nn.Module, runtime: ResolvedRuntime, names: Sequence[str] = ("image_encoder",)) -> list[str]:
    """Compile the ``forward`` of each named submodule when ``runtime.compile``; the names compiled.

    The image encoder is the part that runs on every frame with a fixed input shape, so it is
    what gains (the official code compiles the same part). Compilation itself happens on the
    first call: the caller shows COMPILE_WARMUP_MESSAGE while that first frame runs.
    """
    if not runtime.compile:
        return []
    import torch

    compiled = []
    for name in names:
        module = getattr(model, name, None)
        if isinstance(module, torch.nn.Module):
            module.forward = torch.compile(module.forward, dynamic=False)  # type: ignore[method-assign]
            compiled.append(name)
    if not compiled:
        raise ValueError(f"the model has none of the submodules {', '.join(names)} to compile")
    return compiled
