"""Reading and writing SAM 2 checkpoints: official ``.pt`` files (a torch zip holding
``{"model": state_dict}``), loaded weights-only with strict key and shape matching; the
version and size are recognised from the tensors themselves.

Checkpoints of non-official (small test) configurations carry their config as a plain dict
under ``"masklet_config"`` beside ``"model"``; official files never need it.
"""

from __future__ import annotations

import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from core.sam2.config import SIZES, VERSIONS, Sam2Config, config_for
from core.sam2.model import Sam2Model
from core.validation.bounds import Invalid
from core.validation.checkpoint import check_checkpoint_zip

_ZIP_MAGIC = b"PK\x03\x04"
_PATCH_KEY = "image_encoder.trunk.patch_embed.proj.weight"
_BLOCK_RE = re.compile(r"^image_encoder\.trunk\.blocks\.(\d+)\.")
CONFIG_KEY = "masklet_config"


class CheckpointError(ValueError):
    """A file that is not a loadable SAM 2 checkpoint; the message names what was expected and found."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint holds. version "2.0"/"2.1" ("custom" for test configs); size as in config."""

    version: str
    size: str
    config: Sam2Config
    num_parameters: int  # elements of all tensors in the state dict (buffers included)


def _describe(data: bytes) -> str:
    if not data:
        return "an empty file"
    if data[:1] == b"\x80":
        return "a plain Python pickle"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return f"binary data starting with {data[:8].hex()}"
    return f"text starting with {text[:20]!r}"


def _load_raw(path: Path, mmap: bool) -> object:
    """torch.load, weights only, with every failure turned into one CheckpointError."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    with path.open("rb") as f:
        head = f.read(64)
    if head[:4] != _ZIP_MAGIC:
        raise CheckpointError(
            f"{path.name}: not a PyTorch checkpoint: expected a torch zip file holding {{'model': state_dict}}, "
            f"found {_describe(head)}"
        )
    try:  # the zip's structure first: a compression bomb is refused before torch allocates
        check_checkpoint_zip(path)
    except Invalid as exc:
        raise CheckpointError(f"{path.name}: expected a complete torch checkpoint, found {exc}") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[-1][:160] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path.name}: refused: the file holds Python objects other than tensors and plain containers "
            f"(expected {{'model': state_dict}}; weights-only loading said: {first})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "central directory" in message or isinstance(exc, EOFError):
            found = "a truncated or damaged zip file"
        else:
            found = f"a zip file torch cannot read ({message[:120]})"
        raise CheckpointError(f"{path.name}: expected a complete torch checkpoint, found {found}") from None


def _state_dict_of(obj: object, name: str) -> tuple[dict[str, torch.Tensor], dict | None]:
    """(state dict, embedded config dict or None) from what torch.load returned."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{name}: expected a dict {{'model': state_dict}}, found a {type(obj).__name__}")
    config_dict = obj.get(CONFIG_KEY)
    sd = obj.get("model")
    if sd is None and _PATCH_KEY in obj:
        sd = obj  # a bare state dict
    if not isinstance(sd, dict):
        keys = ", ".join(map(str, list(obj)[:5]))
        raise CheckpointError(f"{name}: expected a dict with a 'model' state dict, found a dict with keys [{keys}]")
    bad = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{name}: expected a state dict of tensors, found non-tensor entries such as {bad[0]!r}")
    if config_dict is not None and not isinstance(config_dict, dict):
        raise CheckpointError(f"{name}: '{CONFIG_KEY}' must be a dict, found a {type(config_dict).__name__}")
    return sd, config_dict


def _recognise(sd: dict[str, torch.Tensor], name: str) -> Sam2Config:
    """The preset whose trunk width/depth and version-specific tensors match the state dict."""
    if _PATCH_KEY not in sd:
        sample = ", ".join(list(sd)[:3]) or "none"
        raise CheckpointError(
            f"{name}: not a SAM 2 checkpoint: expected tensors such as {_PATCH_KEY}, "
            f"found {len(sd)} tensors such as {sample}"
        )
    embed_dim = int(sd[_PATCH_KEY].shape[0])
    depth = len({int(m.group(1)) for k in sd if (m := _BLOCK_RE.match(k))})
    version = "2.1" if ("no_obj_embed_spatial" in sd or "obj_ptr_tpos_proj.weight" in sd) else "2.0"
    for size in SIZES:
        cfg = config_for(version, size)
        if cfg.trunk.embed_dim == embed_dim and sum(cfg.trunk.stages) == depth:
            return cfg
    known = ", ".join(
        f"{s} ({config_for('2.1', s).trunk.embed_dim} channels, {sum(config_for('2.1', s).trunk.stages)} blocks)" for s in SIZES
    )
    raise CheckpointError(
        f"{name}: unknown SAM 2 trunk: found {embed_dim} channels and {depth} blocks; expected one of {known}"
    )


def _check_tensors(sd: dict[str, torch.Tensor], cfg: Sam2Config, name: str) -> None:
    """Strict names and shapes against a model of ``cfg`` built on the meta device."""
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in Sam2Model(cfg).state_dict().items()}
    label = f"SAM {cfg.version} {cfg.size}" if cfg.version in VERSIONS else f"the {cfg.size} config"
    missing = [k for k in expected if k not in sd]
    extra = [k for k in sd if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {', '.join(extra[:3])})")
        raise CheckpointError(f"{name}: tensors do not match {label}: {'; '.join(parts)}")
    for k, shape in expected.items():
        if tuple(sd[k].shape) != shape:
            raise CheckpointError(
                f"{name}: tensor {k} of {label} should have shape {list(shape)}, found {list(sd[k].shape)}"
            )


def _read(path: str | os.PathLike[str], mmap: bool) -> tuple[CheckpointInfo, dict[str, torch.Tensor]]:
    p = Path(path)
    sd, config_dict = _state_dict_of(_load_raw(p, mmap), p.name)
    if config_dict is not None:
        try:
            cfg = Sam2Config.from_dict(config_dict)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{p.name}: bad embedded '{CONFIG_KEY}': {exc}") from None
    else:
        cfg = _recognise(sd, p.name)
    _check_tensors(sd, cfg, p.name)
    num = sum(int(v.numel()) for v in sd.values())
    return CheckpointInfo(version=cfg.version, size=cfg.size, config=cfg, num_parameters=num), sd


def inspect_checkpoint(path: str | os.PathLike[str]) -> CheckpointInfo:
    """Version, size, config and size in elements of a checkpoint, checked tensor by tensor.

    Raises CheckpointError for anything that is not a loadable SAM 2 checkpoint.
    """
    return _read(path, mmap=True)[0]


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Sam2Model:
    """A Sam2Model (eval mode, float32) with the checkpoint's weights, on ``device``.

    The file is memory-mapped (after core.validation.checkpoint's structural check): memory
    follows the tensors the model takes, never what the file claims."""
    info, sd = _read(path, mmap=True)
    with torch.device("meta"):
        model = Sam2Model(info.config)
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
    model.load_state_dict(sd, strict=True, assign=True)
    return model.to(torch.device(device)).eval()


def save_checkpoint(model: Sam2Model, path: str | os.PathLike[str]) -> None:
    """Write ``{"model": state_dict}`` (official format; plus the config for non-official configs), atomically."""
    p = Path(path)
    payload: dict[str, object] = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    if not model.config.is_preset:
        payload[CONFIG_KEY] = model.config.to_dict()
    tmp = p.with_name(p.name + ".part")
    torch.save(payload, tmp)
    os.replace(tmp, p)
