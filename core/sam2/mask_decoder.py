"""The SAM mask decoder: output tokens + prompt tokens through the two-way transformer, then
upscaled image features (with the high-resolution skips) times per-token hypernetworks give
mask logits; heads predict IoU and object presence."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.sam2.common import MLP, LayerNorm2d
from core.sam2.config import MaskDecoderConfig, MaskDecoderExtraArgs
from core.sam2.linear import Linear
from core.sam2.transformer import TwoWayTransformer


class MaskDecoder(nn.Module):
    """Token order: [object score (if pred_obj_scores)], IoU, mask tokens (single, then 3 multi)."""

    def __init__(
        self,
        transformer_dim: int,
        cfg: MaskDecoderConfig,
        extra: MaskDecoderExtraArgs,
        use_high_res_features: bool,
        iou_prediction_use_sigmoid: bool,
        pred_obj_scores: bool,
        pred_obj_scores_mlp: bool,
        use_multimask_token_for_obj_ptr: bool,
    ) -> None:
        super().__init__()
        d = transformer_dim
        self.transformer_dim = d
        self.transformer = TwoWayTransformer(
            depth=cfg.transformer_depth,
            embedding_dim=d,
            num_heads=cfg.transformer_num_heads,
            mlp_dim=cfg.transformer_mlp_dim,
            attention_downsample_rate=cfg.attention_downsample_rate,
        )
        self.num_multimask_outputs = cfg.num_multimask_outputs
        self.iou_token = nn.Embedding(1, d)
        self.num_mask_tokens = cfg.num_multimask_outputs + 1
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, d)
        self.pred_obj_scores = pred_obj_scores
        if pred_obj_scores:
            self.obj_score_token = nn.Embedding(1, d)
        self.use_multimask_token_for_obj_ptr = use_multimask_token_for_obj_ptr
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(d, d // 4, kernel_size=2, stride=2),
            LayerNorm2d(d // 4),
            nn.GELU(),
            nn.ConvTranspose2d(d // 4, d // 8, kernel_size=2, stride=2),
            nn.GELU(),
        )
        self.use_high_res_features = use_high_res_features
        if use_high_res_features:
            self.conv_s0 = nn.Conv2d(d, d // 8, kernel_size=1)
            self.conv_s1 = nn.Conv2d(d, d // 4, kernel_size=1)
        self.output_hypernetworks_mlps = nn.ModuleList(MLP(d, d, d // 8, 3) for _ in range(self.num_mask_tokens))
        self.iou_prediction_head = MLP(
            d, cfg.iou_head_hidden_dim, self.num_mask_tokens, cfg.iou_head_depth, sigmoid_output=iou_prediction_use_sigmoid
        )
        if pred_obj_scores:
            self.pred_obj_score_head = MLP(d, d, 1, 3) if pred_obj_scores_mlp else Linear(d, 1)
        self.dynamic_multimask_via_stability = extra.dynamic_multimask_via_stability
        self.dynamic_multimask_stability_delta = extra.dynamic_multimask_stability_delta
        self.dynamic_multimask_stability_thresh = extra.dynamic_multimask_stability_thresh

    def forward(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        multimask_output: bool,
        repeat_image: bool,
        high_res_features: list[Tensor] | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """-> (mask logits (B, M, 4h, 4w), IoU (B, M), SAM output tokens (B, M or 1, C), object score logits (B, 1)).

        image_embeddings (B or 1, C, h, w); image_pe (1, C, h, w); sparse (B, N, C); dense (B, C, h, w);
        high_res_features: [(B, C/8, 4h, 4w), (B, C/4, 2h, 2w)] after conv_s0/conv_s1.
        M = 3 with multimask_output, else 1 (possibly the most stable of the three, see below).
        """
        masks, iou_pred, mask_tokens_out, object_score_logits = self.predict_masks(
            image_embeddings, image_pe, sparse_prompt_embeddings, dense_prompt_embeddings, repeat_image, high_res_features
        )
        if multimask_output:
            masks, iou_pred = masks[:, 1:], iou_pred[:, 1:]
        elif self.dynamic_multimask_via_stability and not self.training:
            masks, iou_pred = self._dynamic_multimask_via_stability(masks, iou_pred)
        else:
            masks, iou_pred = masks[:, 0:1], iou_pred[:, 0:1]
        if multimask_output and self.use_multimask_token_for_obj_ptr:
            sam_tokens_out = mask_tokens_out[:, 1:]
        else:
            # the single-mask token is the object-memory token (how the model was trained)
            sam_tokens_out = mask_tokens_out[:, 0:1]
        return masks, iou_pred, sam_tokens_out, object_score_logits

    def predict_masks(
        self,
        image_embeddings: Tensor,
        image_pe: Tensor,
        sparse_prompt_embeddings: Tensor,
        dense_prompt_embeddings: Tensor,
        repeat_image: bool,
        high_res_features: list[Tensor] | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """All 4 masks and IoUs, the 4 mask tokens, the object score logits."""
        s = 0
        if self.pred_obj_scores:
            output_tokens = torch.cat([self.obj_score_token.weight, self.iou_token.weight, self.mask_tokens.weight], dim=0)
            s = 1
        else:
            output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        b_tokens = sparse_prompt_embeddings.size(0)
        output_tokens = output_tokens.unsqueeze(0).expand(b_tokens, -1, -1)
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)

        if repeat_image:
            src = torch.repeat_interleave(image_embeddings, b_tokens, dim=0)
        else:
            if image_embeddings.shape[0] != b_tokens:
                raise ValueError("image and prompt batch sizes differ")
            src = image_embeddings
        src = src + dense_prompt_embeddings
        pos_src = image_pe.expand(b_tokens, -1, -1, -1)
        b, c, h, w = src.shape

        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, s, :]
        mask_tokens_out = hs[:, s + 1 : s + 1 + self.num_mask_tokens, :]

        src = src.transpose(1, 2).reshape(b, c, h, w)
        if not self.use_high_res_features:
            upscaled = self.output_upscaling(src)
        else:
            dc1, ln1, act1, dc2, act2 = self.output_upscaling
            feat_s0, feat_s1 = high_res_features
            upscaled = act1(ln1(_upsample2x(dc1, src) + feat_s1))
            upscaled = act2(_upsample2x(dc2, upscaled) + feat_s0)

        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, i, :]) for i, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1
        )
        b, c, h, w = upscaled.shape
        masks = (hyper_in @ upscaled.reshape(b, c, h * w)).view(b, -1, h, w)

        iou_pred = self.iou_prediction_head(iou_token_out)
        if self.pred_obj_scores:
            object_score_logits = self.pred_obj_score_head(hs[:, 0, :])
        else:
            # no head: the object is taken as present (sigmoid(10) ~ 1)
            object_score_logits = 10.0 * iou_pred.new_ones(iou_pred.shape[0], 1)
        return masks, iou_pred, mask_tokens_out, object_score_logits

    def _get_stability_scores(self, mask_logits: Tensor) -> Tensor:
        """IoU between the masks thresholded at +delta and -delta: (B, M, H, W) -> (B, M)."""
        mask_logits = mask_logits.flatten(-2)
        delta = self.dynamic_multimask_stability_delta
        area_i = torch.sum(mask_logits > delta, dim=-1).float()
        area_u = torch.sum(mask_logits > -delta, dim=-1).float()
        return torch.where(area_u > 0, area_i / area_u, 1.0)

    def _dynamic_multimask_via_stability(self, all_mask_logits: Tensor, all_iou_scores: Tensor) -> tuple[Tensor, Tensor]:
        """Single-mask output, falling back to the best-IoU multimask output when the single
        mask is unstable (stability below the threshold)."""
        multimask_logits = all_mask_logits[:, 1:]
        multimask_iou = all_iou_scores[:, 1:]
        best = torch.argmax(multimask_iou, dim=-1)
        batch = torch.arange(multimask_iou.size(0), device=all_iou_scores.device)
        best_logits = multimask_logits[batch, best].unsqueeze(1)
        best_iou = multimask_iou[batch, best].unsqueeze(1)

        single_logits = all_mask_logits[:, 0:1]
        single_iou = all_iou_scores[:, 0:1]
        is_stable = self._get_stability_scores(single_logits) >= self.dynamic_multimask_stability_thresh
        logits_out = torch.where(is_stable[..., None, None].expand_as(single_logits), single_logits, best_logits)
        iou_out = torch.where(is_stable.expand_as(single_iou), single_iou, best_iou)
        return logits_out, iou_out


def _upsample2x(conv: nn.ConvTranspose2d, x: Tensor) -> Tensor:
    """``conv(x)`` for a transposed conv with kernel 2 and stride 2, (B, Cin, H, W) -> (B, Cout, 2H, 2W).

    Its output windows do not overlap: each input pixel maps to a 2x2 block through one
    (Cin, Cout * 4) matrix. On CPU that is one matrix product, faster than the library's
    transposed convolution (the same sums in another order: float32 rounding apart).
    """
    if x.device.type != "cpu":
        return conv(x)
    b, cin, h, w = x.shape
    cout = conv.weight.shape[1]
    y = x.permute(0, 2, 3, 1).reshape(b * h * w, cin) @ conv.weight.reshape(cin, cout * 4)
    y = y.view(b, h, w, cout, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, cout, 2 * h, 2 * w)
    return y + conv.bias[:, None, None] if conv.bias is not None else y
