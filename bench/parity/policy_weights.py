"""Per-video changes to the random weights of the memory-policy parity runs (both sides load them).

Random weights give flat, nearly equal outputs, so a policy's thresholds are rarely crossed. The
parity scripts change a copy of the weights per video, from specs of the form
"bedroom=a:b:c,dog=a:b:c" (three numbers: the multimask outputs 1-3; output 0 is the single mask):

- IoU offsets: added to the IoU head's last bias (predicted IoUs are a sigmoid of it), to tie or
  order the three masks' predicted IoUs;
- mask offsets: the decoder's upscaled embedding gets a constant channel 0 (its weights zeroed,
  bias 1, no high-resolution term), and each output's channel-0 hypernetwork bias is moved by its
  offset, which shifts that mask's logits evenly: the masks stop covering the whole frame and get
  different boxes and areas.
"""

from __future__ import annotations

from pathlib import Path


def offsets(spec: str, video: str) -> list[float] | None:
    """The three offsets ``spec`` gives ``video``; None when it names no offsets for it."""
    value = dict(part.split("=") for part in spec.split(",") if part).get(video)
    return None if value is None else [float(x) for x in value.split(":")]


def variant_path(out: Path, video: str, iou_spec: str, mask_spec: str) -> Path:
    """The weights ``video`` runs with: the shared random ones unless a spec changes them."""
    changed = offsets(iou_spec, video) is not None or offsets(mask_spec, video) is not None
    return out / (f"tiny_random_{video}.pt" if changed else "tiny_random.pt")


def make_variants(out: Path, videos: list[str], iou_spec: str, mask_spec: str) -> None:
    """Write ``out/tiny_random.pt`` (if missing) and each changed video's copy beside it."""
    import torch

    from bench.parity.video_parity import make_checkpoint

    if not (out / "tiny_random.pt").is_file():
        make_checkpoint(out)
    base = torch.load(out / "tiny_random.pt", weights_only=True)
    for video in videos:
        path = variant_path(out, video, iou_spec, mask_spec)
        if path.name == "tiny_random.pt":
            continue
        sd = {k: v.clone() for k, v in base["model"].items()}
        apply_offsets(sd, offsets(iou_spec, video), offsets(mask_spec, video))
        torch.save({**base, "model": sd}, path)


def apply_offsets(sd: dict, iou_offsets: list[float] | None, mask_offsets: list[float] | None) -> None:
    """Change the state dict ``sd`` in place: ``iou_offsets`` added to the IoU head's last bias of
    multimask outputs 1-3; with ``mask_offsets``, the upscaled embedding's channel 0 made constant
    and each offset added to that output's channel-0 hypernetwork bias (see the module's doc)."""
    for k, delta in enumerate(iou_offsets or [], start=1):  # output 0 is the single mask
        sd["sam_mask_decoder.iou_prediction_head.layers.2.bias"][k] += delta
    if mask_offsets is not None:
        sd["sam_mask_decoder.output_upscaling.3.weight"][:, 0] = 0.0  # ConvTranspose2d (in, out, 2, 2)
        sd["sam_mask_decoder.output_upscaling.3.bias"][0] = 1.0
        sd["sam_mask_decoder.conv_s0.weight"][0] = 0.0  # the high-resolution term added before GELU
        sd["sam_mask_decoder.conv_s0.bias"][0] = 0.0
        for k, delta in enumerate(mask_offsets, start=1):
            sd[f"sam_mask_decoder.output_hypernetworks_mlps.{k}.layers.2.bias"][0] += delta
