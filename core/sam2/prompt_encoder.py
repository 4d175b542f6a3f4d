"""The SAM prompt encoder: points and box corners to sparse tokens, a low-res mask to a dense map."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.sam2.common import LayerNorm2d
from core.sam2.position_encoding import PositionEmbeddingRandom


class PromptEncoder(nn.Module):
    """Point labels: 1 positive, 0 negative, 2 box top-left, 3 box bottom-right, -1 padding.

    image_embedding_size: (h, w) of the decoder's image features (64, 64 at 1024);
    input_image_size: (H, W) of the model input in pixels; mask inputs are (4h, 4w).
    """

    def __init__(self, embed_dim: int, image_embedding_size: tuple[int, int], input_image_size: tuple[int, int], mask_in_chans: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.input_image_size = input_image_size
        self.image_embedding_size = image_embedding_size
        self.pe_layer = PositionEmbeddingRandom(embed_dim // 2)
        self.num_point_embeddings = 4
        self.point_embeddings = nn.ModuleList(nn.Embedding(1, embed_dim) for _ in range(self.num_point_embeddings))
        self.not_a_point_embed = nn.Embedding(1, embed_dim)
        self.mask_input_size = (4 * image_embedding_size[0], 4 * image_embedding_size[1])
        self.mask_downscaling = nn.Sequential(
            nn.Conv2d(1, mask_in_chans // 4, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans // 4),
            nn.GELU(),
            nn.Conv2d(mask_in_chans // 4, mask_in_chans, kernel_size=2, stride=2),
            LayerNorm2d(mask_in_chans),
            nn.GELU(),
            nn.Conv2d(mask_in_chans, embed_dim, kernel_size=1),
        )
        self.no_mask_embed = nn.Embedding(1, embed_dim)

    def get_dense_pe(self) -> Tensor:
        """(1, C, h, w) encoding of the image-feature grid."""
        return self.pe_layer(self.image_embedding_size).unsqueeze(0)

    def _embed_points(self, points: Tensor, labels: Tensor, pad: bool) -> Tensor:
        """points (B, N, 2) input pixels, labels (B, N) -> (B, N (+1 if pad), C)."""
        points = points + 0.5  # centre of the pixel
        if pad:
            points = torch.cat([points, points.new_zeros((points.shape[0], 1, 2))], dim=1)
            labels = torch.cat([labels, -torch.ones((labels.shape[0], 1), dtype=labels.dtype, device=labels.device)], dim=1)
        emb = self.pe_layer.forward_with_coords(points, self.input_image_size)
        lab = labels.unsqueeze(-1)
        emb = torch.where(lab == -1, torch.zeros_like(emb) + self.not_a_point_embed.weight, emb)
        for value in range(self.num_point_embeddings):
            emb = torch.where(lab == value, emb + self.point_embeddings[value].weight, emb)
        return emb

    def _embed_boxes(self, boxes: Tensor) -> Tensor:
        """boxes (B, 4) x0, y0, x1, y1 input pixels -> (B, 2, C)."""
        coords = (boxes + 0.5).reshape(-1, 2, 2)
        emb = self.pe_layer.forward_with_coords(coords, self.input_image_size)
        return torch.stack((emb[:, 0] + self.point_embeddings[2].weight[0], emb[:, 1] + self.point_embeddings[3].weight[0]), dim=1)

    def forward(
        self, points: tuple[Tensor, Tensor] | None, boxes: Tensor | None, masks: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """-> sparse (B, N, C) and dense (B, C, h, w) embeddings.

        points: (coords (B, N, 2) input pixels x then y, labels (B, N)); a padding point is
        appended when there is no box. masks: (B, 1, 4h, 4w) logits.
        """
        if points is not None:
            bs = points[0].shape[0]
        elif boxes is not None:
            bs = boxes.shape[0]
        elif masks is not None:
            bs = masks.shape[0]
        else:
            bs = 1
        device = self.point_embeddings[0].weight.device
        parts = [torch.empty((bs, 0, self.embed_dim), device=device)]
        if points is not None:
            parts.append(self._embed_points(points[0], points[1], pad=boxes is None))
        if boxes is not None:
            parts.append(self._embed_boxes(boxes))
        sparse = torch.cat(parts, dim=1)
        if masks is not None:
            dense = self.mask_downscaling(masks)
        else:
            dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(bs, -1, *self.image_embedding_size)
        return sparse, dense
