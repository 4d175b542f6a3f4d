"""The catalogue against the official file list, the device/precision resolution, the load check."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from core.checkpoints.accelerate import autocast, compile_modules, exact_float32, probe_devices, resolve_here
from core.checkpoints.catalogue import (
    CATALOGUE,
    DEFAULT_NAME,
    ModelSize,
    ModelVersion,
    UnknownModelError,
    default_entry,
    find,
    match,
)
from core.checkpoints.runtime import DeviceChoice, DeviceProbe, ModelSelection, PrecisionChoice, resolve, selection_from_strings
from core.checkpoints.verify import CheckpointRejected, inspect_file, verifier_for

from .test_download_helpers import custom_checkpoint, files_dir, official_checkpoint, offline_by_default  # noqa: F401 - fixtures

# Copied from the official checkpoints/download_ckpts.sh (facebookresearch/sam2).
OFFICIAL_URLS = [
    "https://dl.fbaipublicfiles.com/segment_anything_2/072824/sam2_hiera_tiny.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/072824/sam2_hiera_small.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/072824/sam2_hiera_base_plus.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/072824/sam2_hiera_large.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_tiny.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_small.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_base_plus.pt",
    "https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_large.pt",
]


def test_catalogue_is_the_official_files() -> None:
    assert sorted(e.url for e in CATALOGUE) == sorted(OFFICIAL_URLS)
    assert sorted(e.file_name for e in CATALOGUE) == sorted(u.rsplit("/", 1)[1] for u in OFFICIAL_URLS)
    for entry in CATALOGUE:
        assert entry.url.endswith("/" + entry.file_name)
        assert entry.file_name == entry.name + ".pt"
        assert ("092824" in entry.url) == (entry.version is ModelVersion.SAM2_1)
    assert {(e.version, e.size) for e in CATALOGUE} == {(v, s) for v in ModelVersion for s in ModelSize}


def test_sizes_agree_with_parameter_counts() -> None:
    # float32 weights plus a few hundred kB of zip and pickle: a wrong size would stand out.
    for entry in CATALOGUE:
        assert 0 < entry.size_bytes - 4 * entry.parameters < 400_000, entry.name
    # Faster models are the smaller ones; larger ones are more accurate.
    for version in ModelVersion:
        row = [match(version, s) for s in ModelSize]
        assert [e.size_bytes for e in row] == sorted(e.size_bytes for e in row)
        assert row[0].speed_fps > row[-1].speed_fps and row[0].sav_jf < row[-1].sav_jf


@pytest.mark.slow
def test_random_checkpoint_is_within_a_few_kilobytes_of_the_official_size(files_dir: Path) -> None:
    assert abs(official_checkpoint(files_dir).stat().st_size - default_entry().size_bytes) < 10_000


def test_default_and_lookup() -> None:
    assert DEFAULT_NAME == "sam2.1_hiera_tiny"
    entry = default_entry()
    assert (entry.version, entry.size, entry.title) == (ModelVersion.SAM2_1, ModelSize.TINY, "SAM 2.1 tiny")
    assert find("SAM2.1_hiera_tiny.pt") is entry
    assert find("sam2_hiera_base_plus").title == "SAM 2.0 base+"
    with pytest.raises(UnknownModelError, match="unknown model 'sam3'; choose one of: sam2.1_hiera_tiny, "):
        find("sam3")


GPU = DeviceProbe(cuda=True, cuda_bf16=True, cuda_name="test GPU")
OLD_GPU = DeviceProbe(cuda=True, cuda_bf16=False)
MAC = DeviceProbe(mps=True)
CPU_ONLY = DeviceProbe()
AUTO, FP32, BF16 = PrecisionChoice.AUTO, PrecisionChoice.FP32, PrecisionChoice.BF16


@pytest.mark.parametrize(
    ("device", "precision", "compile_", "probe", "expected"),
    [
        (DeviceChoice.AUTO, AUTO, False, GPU, ("cuda", "bf16", False, "")),
        (DeviceChoice.AUTO, AUTO, True, GPU, ("cuda", "bf16", True, "")),
        (DeviceChoice.AUTO, AUTO, False, OLD_GPU, ("cuda", "fp32", False, "")),
        (DeviceChoice.AUTO, AUTO, True, MAC, ("mps", "fp32", False, "")),
        (DeviceChoice.AUTO, AUTO, True, CPU_ONLY, ("cpu", "fp32", False, "")),
        (DeviceChoice.CPU, AUTO, False, GPU, ("cpu", "fp32", False, "")),
        (DeviceChoice.AUTO, FP32, False, GPU, ("cuda", "fp32", False, "")),
        (DeviceChoice.CPU, BF16, False, CPU_ONLY, ("cpu", "bf16", False, "")),
        (DeviceChoice.CUDA, AUTO, True, CPU_ONLY, ("cpu", "fp32", False, "cuda is not available on this machine; running on cpu")),
        (DeviceChoice.MPS, AUTO, False, GPU, ("cuda", "bf16", False, "mps is not available on this machine; running on cuda")),
        (DeviceChoice.CUDA, BF16, False, OLD_GPU, ("cuda", "bf16", False, "this GPU has no native bfloat16; it will be slow")),
    ],
)
def test_resolution(
    device: DeviceChoice, precision: PrecisionChoice, compile_: bool, probe: DeviceProbe, expected: tuple[str, str, bool, str]
) -> None:
    runtime = resolve(device, precision, compile_, probe)
    assert (runtime.device, runtime.precision, runtime.compile, runtime.note) == expected


def test_runtime_label_and_stored_strings() -> None:
    assert resolve(DeviceChoice.AUTO, AUTO, True, GPU).label == "cuda · bf16 · compiled"
    assert resolve(DeviceChoice.AUTO, AUTO, False, CPU_ONLY).label == "cpu · fp32"
    chosen = selection_from_strings("/x.pt", "cuda", "bf16", True)
    assert chosen == ModelSelection(Path("/x.pt"), DeviceChoice.CUDA, PrecisionChoice.BF16, True)
    assert selection_from_strings("/x.pt", "tpu", "fp8") == ModelSelection(Path("/x.pt"))


def test_this_machine() -> None:
    probe = probe_devices()
    assert probe.cuda == torch.cuda.is_available()
    runtime = resolve_here(ModelSelection(Path("x.pt"), compile=True))
    assert runtime.device == ("cuda" if probe.cuda else "mps" if probe.mps else "cpu")
    assert runtime.compile == probe.cuda


def test_autocast_follows_precision() -> None:
    with autocast(resolve(DeviceChoice.CPU, BF16, False, CPU_ONLY)):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast(resolve(DeviceChoice.CPU, FP32, False, CPU_ONLY)):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


class _Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.image_encoder = nn.Linear(2, 2)


def test_float32_on_cuda_turns_tf32_off_and_nothing_else_changes() -> None:
    from core.checkpoints.runtime import ResolvedRuntime

    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    before = (matmul.allow_tf32, cudnn.allow_tf32)
    try:
        matmul.allow_tf32, cudnn.allow_tf32 = True, True
        for runtime in (ResolvedRuntime("cpu", "fp32", False), ResolvedRuntime("cuda", "bf16", False)):
            assert not exact_float32(runtime)
        assert cudnn.allow_tf32 and matmul.allow_tf32
        assert exact_float32(ResolvedRuntime("cuda", "fp32", False))
        assert not cudnn.allow_tf32 and not matmul.allow_tf32
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = before


def test_compile_only_when_resolved_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # torch.compile itself is exercised on a GPU by bench/compile_warmup.py; here (CPU, where
    # merely importing dynamo takes ~10 s) it is recorded, to check what is compiled and how.
    calls: list[dict[str, object]] = []

    def fake_compile(fn: object, **kwargs: object) -> object:
        calls.append({"fn": fn, **kwargs})
        return lambda *a: "compiled"

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = _Model()
    plain = model.image_encoder.forward
    assert compile_modules(model, resolve(DeviceChoice.AUTO, AUTO, True, CPU_ONLY)) == []
    assert compile_modules(model, resolve(DeviceChoice.AUTO, AUTO, False, GPU)) == []
    assert calls == [] and model.image_encoder.forward == plain
    assert compile_modules(model, resolve(DeviceChoice.AUTO, AUTO, True, GPU)) == ["image_encoder"]
    assert calls == [{"fn": plain, "dynamic": False}]
    assert model.image_encoder(torch.ones(1, 2)) == "compiled"
    with pytest.raises(ValueError, match="none of the submodules trunk"):
        compile_modules(model, resolve(DeviceChoice.AUTO, AUTO, True, GPU), names=("trunk",))


@pytest.mark.slow
def test_inspect_recognises_official_and_custom_files(files_dir: Path) -> None:
    facts = inspect_file(official_checkpoint(files_dir))
    assert (facts.version, facts.size, facts.official) == ("2.1", "tiny", default_entry())
    custom = inspect_file(custom_checkpoint(files_dir))
    assert custom.official is None and custom.version == "custom"
    assert custom.description.startswith("custom SAM 2 configuration")
    with pytest.raises(CheckpointRejected, match="holds custom SAM 2 configuration .*, not SAM 2.1 tiny"):
        verifier_for(default_entry())(custom_checkpoint(files_dir))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello, not a model", "text starting with"),
        (b"PK\x03\x04" + b"\0" * 100, "truncated or damaged zip"),
    ],
)
def test_inspect_rejects_wrong_files_in_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointRejected, match=f"not a usable SAM 2 checkpoint: .*{reason}") as info:
        inspect_file(path)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointRejected, match="does not exist"):
        inspect_file(tmp_path / "missing.pt")
