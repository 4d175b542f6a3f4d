"""The decoder's high-resolution projections folded into the neck give the unfolded features."""

from __future__ import annotations

import dataclasses

import torch

from tests.sam2_helpers import random_model, tiny_test_config


def _unfolded(model, images):
    out = model.image_encoder(images)  # no projections: the neck's own d_model features
    return [model.sam_mask_decoder.conv_s0(out.backbone_fpn[0]), model.sam_mask_decoder.conv_s1(out.backbone_fpn[1])]


def test_folded_projections_equal_the_two_convs_in_a_row():
    model = random_model(tiny_test_config())
    images = torch.randn(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        got = model.encode_image(images).high_res_features
        want = _unfolded(model, images)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-5)


def test_a_level_with_top_down_fusion_is_projected_after_the_fusion():
    cfg = tiny_test_config()
    cfg = dataclasses.replace(cfg, neck=dataclasses.replace(cfg.neck, fpn_top_down_levels=[0, 1, 2, 3]))
    model = random_model(cfg)
    images = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        got = model.encode_image(images).high_res_features
        want = _unfolded(model, images)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=0, atol=0)  # nothing folded: the very same convs
