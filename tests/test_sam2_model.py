"""SAM 2 model structure: tensor names, shapes and counts match the official checkpoints;
configs of both versions build; the small test config runs every module end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.sam2.config import SIZES, Sam2Config, config_for
from core.sam2.model import Sam2Model
from tests.sam2_helpers import random_model, tiny_test_config

MANIFEST = Path(__file__).resolve().parents[2] / "shared" / "sam2" / "checkpoint_manifest.json"
FILES = {"tiny": "sam2.1_hiera_tiny.pt", "small": "sam2.1_hiera_small.pt", "base_plus": "sam2.1_hiera_base_plus.pt", "large": "sam2.1_hiera_large.pt"}


def meta_state_shapes(cfg: Sam2Config) -> dict[str, list[int]]:
    with torch.device("meta"):
        model = Sam2Model(cfg)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def manifest() -> dict:
    assert MANIFEST.is_file(), f"missing {MANIFEST}"
    return json.loads(MANIFEST.read_text())["checkpoints"]


@pytest.mark.parametrize("size", SIZES)
def test_sam21_tensors_match_manifest(size: str, manifest: dict) -> None:
    expected = manifest[FILES[size]]
    got = meta_state_shapes(config_for("2.1", size))
    assert list(got) == list(expected["tensors"])  # same names, same order
    assert got == expected["tensors"]
    assert len(got) == expected["num_tensors"]
    assert sum(torch.Size(s).numel() for s in got.values()) == expected["num_parameters"]


@pytest.mark.parametrize("size", SIZES)
def test_sam20_differs_only_by_its_memory_tensors(size: str) -> None:
    v20 = meta_state_shapes(config_for("2.0", size))
    v21 = meta_state_shapes(config_for("2.1", size))
    assert set(v21) - set(v20) == {"no_obj_embed_spatial", "obj_ptr_tpos_proj.weight", "obj_ptr_tpos_proj.bias"}
    assert set(v20) <= set(v21)
    assert all(v20[k] == v21[k] for k in v20)


def test_config_presets_follow_the_official_yaml() -> None:
    large = config_for("2.1", "large")
    assert large.trunk.window_spec == (8, 4, 16, 8)
    assert large.trunk.channel_list == (1152, 576, 288, 144)
    assert config_for("2.1", "base_plus").trunk.window_pos_embed_bkg_spatial_size == (14, 14)
    v20 = config_for("2.0", "tiny")
    assert not v20.add_tpos_enc_to_obj_ptrs and not v20.no_obj_embed_spatial
    assert config_for("2.1", "tiny").is_preset and not tiny_test_config().is_preset
    with pytest.raises(ValueError, match="unknown SAM 2 size"):
        config_for("2.1", "huge")
    with pytest.raises(ValueError, match="unknown SAM 2 version"):
        config_for("3.0", "tiny")


def test_config_round_trips_through_plain_dict() -> None:
    cfg = tiny_test_config(96)
    assert Sam2Config.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown SAM 2 config fields"):
        Sam2Config.from_dict({**cfg.to_dict(), "bogus": 1})


@torch.inference_mode()
@pytest.mark.slow
def test_tiny_test_config_runs_every_module() -> None:
    model = random_model(seed=1)
    cfg = model.config
    s = cfg.image_size
    feats = model.encode_image(torch.randn(2, 3, s, s))
    h = s // 16
    assert feats.feat_sizes == [(4 * h, 4 * h), (2 * h, 2 * h), (h, h)]
    assert feats.vision_feats[-1].shape == (h * h, 2, cfg.hidden_dim)
    assert feats.vision_feats[0].shape == (16 * h * h, 2, cfg.hidden_dim // 8)
    assert feats.image_embed.shape == (2, cfg.hidden_dim, h, h)

    out = model.forward_sam_heads(
        feats.image_embed,
        point_coords=torch.tensor([[[10.0, 20.0]], [[30.0, 40.0]]]),
        point_labels=torch.ones(2, 1, dtype=torch.int32),
        high_res_features=feats.high_res_features,
        multimask_output=True,
    )
    assert out.low_res_multimasks.shape == (2, 3, 4 * h, 4 * h)
    assert out.high_res_multimasks.shape == (2, 3, s, s)
    assert out.ious.shape == (2, 3) and out.low_res_masks.shape == (2, 1, 4 * h, 4 * h)
    assert out.obj_ptr.shape == (2, cfg.hidden_dim) and out.object_score_logits.shape == (2, 1)

    mem = model.encode_new_memory(feats.vision_feats, feats.feat_sizes, out.high_res_masks, out.object_score_logits, True)
    assert mem.vision_features.shape == (2, cfg.mem_dim, h, h)
    assert mem.vision_pos_enc.shape == (2, cfg.mem_dim, h, h)

    # two frames of memory (rotated) and 2 pointers split into hidden/mem tokens each
    split = cfg.hidden_dim // cfg.mem_dim
    memory = torch.cat([mem.vision_features.flatten(2).permute(2, 0, 1)] * 2 + [torch.randn(2 * split, 2, cfg.mem_dim)])
    memory_pos = torch.randn_like(memory)
    conditioned = model.memory_attention(
        curr=feats.vision_feats[-1], memory=memory, curr_pos=feats.vision_pos_embeds[-1], memory_pos=memory_pos,
        num_obj_ptr_tokens=2 * split,
    )
    assert conditioned.shape == feats.vision_feats[-1].shape
    assert torch.isfinite(conditioned).all()

    as_output = model.use_mask_as_output(feats.image_embed, feats.high_res_features, torch.zeros(2, 1, s, s))
    assert (as_output.object_score_logits == -10).all()
    assert torch.allclose(as_output.obj_ptr, model.no_obj_ptr.expand(2, -1))


def test_random_weights_are_non_zero_and_deterministic() -> None:
    a = random_model(seed=3).state_dict()
    b = random_model(seed=3).state_dict()
    c = random_model(seed=4).state_dict()
    assert all(bool((v != 0).all()) for v in a.values())
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["no_mem_embed"], c["no_mem_embed"])


@pytest.mark.slow
def test_encoder_position_cache_follows_weight_changes() -> None:
    model = random_model(seed=2)
    x = torch.randn(1, 3, model.image_size, model.image_size)
    with torch.no_grad():
        first = model.encode_image(x).vision_feats[-1].clone()
        assert torch.equal(model.encode_image(x).vision_feats[-1], first)  # cached path, same numbers
        model.image_encoder.trunk.pos_embed.add_(0.5)  # e.g. load_state_dict copying new weights in
        changed = model.encode_image(x).vision_feats[-1]
    assert not torch.equal(changed, first)
    fresh = random_model(seed=2)
    with torch.no_grad():
        fresh.image_encoder.trunk.pos_embed.add_(0.5)
        assert torch.equal(fresh.encode_image(x).vision_feats[-1], changed)


@pytest.mark.parametrize("activation", [torch.nn.GELU, torch.nn.ReLU])
def test_mlp_activates_in_place_with_the_same_bits(activation: type[torch.nn.Module]) -> None:
    from core.sam2.common import MLP

    torch.manual_seed(0)
    mlp = MLP(16, 64, 8, num_layers=3, activation=activation)
    x = torch.randn(5, 16)
    with torch.no_grad():
        want = mlp.layers[2](activation()(mlp.layers[1](activation()(mlp.layers[0](x)))))
        got = mlp(x)
    assert torch.equal(got, want)
    x.requires_grad_(True)
    mlp(x).sum().backward()  # with autograd: out of place, so the backward pass still works
    assert x.grad is not None


@pytest.mark.parametrize("name", ["gelu", "relu"])
def test_memory_attention_activation_in_place_keeps_the_bits(name: str) -> None:
    from core.sam2.common import activation_fn

    f = activation_fn(name)
    x = torch.randn(4, 32)
    want = f(x)
    y = x.clone()
    assert f(y, inplace=True) is y  # the hidden layer is not copied
    assert torch.equal(y, want) and not torch.equal(x, want)


@pytest.mark.parametrize("hw", [(8, 12), (7, 9)])  # the odd map takes max_pool2d's own path
def test_hiera_query_pooling_equals_max_pool2d_on_strided_queries(hw: tuple[int, int]) -> None:
    from core.sam2.hiera import _pool

    torch.manual_seed(0)
    h, w = hw
    pool = torch.nn.MaxPool2d(2, 2)
    qkv = torch.randn(3, h * w, 3, 2, 5)  # windows, tokens, q/k/v, heads, head dim: q is a strided slice
    qkv[0, 0, 0, 0, 0] = float("nan")
    q = qkv.unbind(2)[0].reshape(3, h, w, 10)
    want = pool(q.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    got = _pool(q, pool)
    assert got.shape == want.shape == (3, h // 2, w // 2, 10)
    assert torch.equal(got.nan_to_num(), want.nan_to_num()) and got.isnan().equal(want.isnan())
