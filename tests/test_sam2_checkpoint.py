"""SAM 2 checkpoints: official format round trip, recognition of version and size from the
tensors, and one clear error for every kind of bad file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from core.sam2.checkpoint import CheckpointError, _check_tensors, _recognise, inspect_checkpoint, load_model, save_checkpoint
from core.sam2.config import SIZES, VERSIONS, config_for
from core.sam2.image_predictor import Sam2ImagePredictor
from core.sam2.model import Sam2Model
from tests.sam2_helpers import random_image, random_model, save_random_checkpoint, tiny_test_config


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small-config random checkpoint (carries its config)."""
    return save_random_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny_test.pt", seed=7)


def meta_state(version: str, size: str) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return Sam2Model(config_for(version, size)).state_dict()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("size", SIZES)
def test_version_and_size_recognised_from_tensors(version: str, size: str) -> None:
    sd = meta_state(version, size)
    cfg = _recognise(sd, "x.pt")
    assert (cfg.version, cfg.size) == (version, size)
    _check_tensors(sd, cfg, "x.pt")  # strict names and shapes pass


@pytest.mark.slow
@torch.inference_mode()
def test_official_tiny_round_trip_predicts_identical_logits(tmp_path: Path) -> None:
    model = random_model(config_for("2.1", "tiny"), seed=11)
    path = tmp_path / "sam2.1_hiera_tiny.pt"
    save_checkpoint(model, path)
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert list(raw) == ["model"]  # exactly the official layout
    assert list(raw["model"]) == list(model.state_dict())

    info = inspect_checkpoint(path)
    assert (info.version, info.size, info.num_parameters) == ("2.1", "tiny", 38_962_754)
    assert info.config == config_for("2.1", "tiny")

    loaded = load_model(path)
    assert not loaded.training
    image = random_image(60, 80, seed=2)
    a, b = Sam2ImagePredictor(model), Sam2ImagePredictor(loaded)
    a.set_image(image)
    b.set_image(image)
    pa = a.predict_logits(points=[[40, 30]], labels=[1])
    pb = b.predict_logits(points=[[40, 30]], labels=[1])
    assert torch.equal(pa.logits, pb.logits)
    assert torch.equal(pa.iou_scores, pb.iou_scores) and pa.object_score == pb.object_score


@pytest.mark.slow
def test_sam20_checkpoint_recognised(tmp_path: Path) -> None:
    path = tmp_path / "sam2_hiera_small.pt"
    torch.save({"model": {k: torch.zeros(v.shape) for k, v in meta_state("2.0", "small").items()}}, path)
    info = inspect_checkpoint(path)
    assert (info.version, info.size) == ("2.0", "small")
    assert info.config == config_for("2.0", "small")
    assert load_model(path).obj_ptr_tpos_proj.__class__.__name__ == "Identity"


@pytest.mark.slow
@torch.inference_mode()
def test_small_config_round_trip(tiny_ckpt: Path) -> None:
    info = inspect_checkpoint(tiny_ckpt)
    assert info.config == tiny_test_config() and info.version == "custom"
    loaded = load_model(tiny_ckpt)
    original = random_model(seed=7)
    for k, v in original.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k


def _single_line_error(path: Path, pattern: str) -> str:
    with pytest.raises(CheckpointError, match=pattern) as info:
        inspect_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message
    with pytest.raises(CheckpointError):
        load_model(path)
    return message


def test_missing_file(tmp_path: Path) -> None:
    _single_line_error(tmp_path / "nope.pt", "no such checkpoint file")


def test_truncated_file(tmp_path: Path, tiny_ckpt: Path) -> None:
    data = tiny_ckpt.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: len(data) // 2])
    _single_line_error(path, "expected a complete torch checkpoint, found a truncated or damaged zip file")


def test_empty_and_text_files(tmp_path: Path) -> None:
    (tmp_path / "empty.pt").write_bytes(b"")
    _single_line_error(tmp_path / "empty.pt", "found an empty file")
    (tmp_path / "page.pt").write_text("<html>404 not found</html>")
    _single_line_error(tmp_path / "page.pt", "expected a torch zip file .* found text starting with '<html>")


def test_plain_pickle_is_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"model": {"a": 1}}))
    _single_line_error(path, "found a plain Python pickle")


class Payload:
    """An arbitrary class: a weights-only load must refuse it."""


def test_random_pickle_in_torch_zip_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"model": Payload()}, path)
    _single_line_error(path, "refused: the file holds Python objects other than tensors")


def test_not_a_dict_and_no_model_key(tmp_path: Path) -> None:
    torch.save([torch.zeros(1)], tmp_path / "list.pt")
    _single_line_error(tmp_path / "list.pt", "expected a dict .* found a list")
    torch.save({"state": {}}, tmp_path / "nomodel.pt")
    _single_line_error(tmp_path / "nomodel.pt", r"expected a dict with a 'model' state dict, found a dict with keys \[state\]")


def test_other_architecture(tmp_path: Path) -> None:
    path = tmp_path / "resnet.pt"
    torch.save({"model": {"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.bias": torch.zeros(10)}}, path)
    _single_line_error(path, "not a SAM 2 checkpoint: expected tensors such as image_encoder.trunk.patch_embed.proj.weight, found 2 tensors")


def test_unknown_trunk(tmp_path: Path) -> None:
    path = tmp_path / "odd.pt"
    sd = {"image_encoder.trunk.patch_embed.proj.weight": torch.zeros(80, 3, 7, 7)}
    torch.save({"model": sd}, path)
    _single_line_error(path, "unknown SAM 2 trunk: found 80 channels and 0 blocks; expected one of tiny")


def _tampered(tmp_path: Path, tiny_ckpt: Path, change) -> Path:  # noqa: ANN001
    raw = torch.load(tiny_ckpt, map_location="cpu", weights_only=True)
    change(raw["model"])
    path = tmp_path / "tampered.pt"
    torch.save(raw, path)
    return path


def test_missing_tensor(tmp_path: Path, tiny_ckpt: Path) -> None:
    path = _tampered(tmp_path, tiny_ckpt, lambda sd: sd.pop("no_mem_embed"))
    _single_line_error(path, "tensors do not match the tiny_test config: 1 missing \\(e.g. no_mem_embed\\)")


def test_extra_tensor(tmp_path: Path, tiny_ckpt: Path) -> None:
    path = _tampered(tmp_path, tiny_ckpt, lambda sd: sd.__setitem__("adapter.weight", torch.zeros(3)))
    _single_line_error(path, "1 unexpected \\(e.g. adapter.weight\\)")


def test_shape_mismatch(tmp_path: Path, tiny_ckpt: Path) -> None:
    path = _tampered(tmp_path, tiny_ckpt, lambda sd: sd.__setitem__("no_obj_ptr", torch.zeros(1, 65)))
    _single_line_error(path, r"tensor no_obj_ptr of the tiny_test config should have shape \[1, 64\], found \[1, 65\]")


@pytest.mark.slow
def test_official_sized_missing_tensor_is_named(tmp_path: Path) -> None:
    sd = {k: torch.zeros(v.shape) for k, v in meta_state("2.1", "tiny").items() if k != "mask_downsample.bias"}
    with pytest.raises(CheckpointError, match="do not match SAM 2.1 tiny: 1 missing \\(e.g. mask_downsample.bias\\)"):
        _check_tensors(sd, config_for("2.1", "tiny"), "x.pt")


def test_non_tensor_entry(tmp_path: Path, tiny_ckpt: Path) -> None:
    path = _tampered(tmp_path, tiny_ckpt, lambda sd: sd.__setitem__("no_obj_ptr", np.zeros(2).tolist()))
    _single_line_error(path, "non-tensor entries such as 'no_obj_ptr'")
