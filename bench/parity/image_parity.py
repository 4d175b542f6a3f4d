"""Numerical parity of Masklet's SAM 2 with the official implementation (not a test; run by hand).

Usage: $SAM2_OFFICIAL_PYTHON bench/parity/image_parity.py [--sizes tiny large]

Runs in the reference venv, where the official package imports (hydra, iopath, torchvision), with
SAM2_OFFICIAL exported: both set up by bench/parity/setup_official.sh (bench/parity/README.md).
Both models get the same random weights (every tensor non-zero): ours is built with
tests/sam2_helpers.random_model, saved in the official file format, and loaded unchanged into
the official model built by its own ``build_sam2(config_file, None)``. Prints JSON of max abs
differences (fp32, CPU) for the image predictor on the shared photos and for submodules.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.parity.official import import_official  # noqa: E402
from core.sam2.checkpoint import load_model  # noqa: E402
from core.sam2.config import config_for  # noqa: E402
from core.sam2.image_predictor import Sam2ImagePredictor  # noqa: E402
from tests.sam2_helpers import save_random_checkpoint  # noqa: E402

YAML = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.array(Image.open(path).convert("RGB"))


def prompt_cases(h: int, w: int) -> dict[str, dict]:
    """Prompts in pixels of an h x w image (x then y)."""
    cx, cy = w * 0.5, h * 0.55
    return {
        "single_click": {"points": [[cx, cy]], "labels": [1]},
        "clicks_pos_neg": {"points": [[cx, cy], [w * 0.3, h * 0.4], [w * 0.8, h * 0.2], [w * 0.1, h * 0.9]], "labels": [1, 1, 0, 0]},
        "box": {"box": [w * 0.2, h * 0.25, w * 0.75, h * 0.8]},
        "box_with_clicks": {"box": [w * 0.2, h * 0.25, w * 0.75, h * 0.8], "points": [[cx, cy], [w * 0.7, h * 0.3]], "labels": [1, 0]},
    }


def maxdiff(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    return float((torch.as_tensor(np.asarray(a)).double() - torch.as_tensor(np.asarray(b)).double()).abs().max())


@torch.inference_mode()
def image_parity(ours: Sam2ImagePredictor, official, image: np.ndarray) -> dict[str, float]:  # noqa: ANN001
    h, w = image.shape[:2]
    t0 = time.perf_counter()
    ours.set_image(image)
    t1 = time.perf_counter()
    official.set_image(image)
    t2 = time.perf_counter()
    res: dict[str, float] = {"set_image_s_ours": round(t1 - t0, 2), "set_image_s_official": round(t2 - t1, 2)}
    emb = maxdiff(ours._image_embed, official._features["image_embed"])
    res["image_embed"] = emb
    for i, (a, b) in enumerate(zip(ours._features.high_res_features, official._features["high_res_feats"])):
        res[f"high_res_feat_{i}"] = maxdiff(a, b)
    for name, case in prompt_cases(h, w).items():
        for multi in (True, False):
            kw = dict(case)
            pts = np.array(kw["points"], np.float32) if "points" in kw else None
            labs = np.array(kw["labels"], np.int32) if "labels" in kw else None
            box = np.array(kw["box"], np.float32) if "box" in kw else None
            mine = ours.predict_logits(points=pts, labels=labs, box=box, multimask_output=multi)
            o_masks, o_iou, o_low = official.predict(
                point_coords=pts, point_labels=labs, box=box, multimask_output=multi, return_logits=True
            )
            key = f"{name}/{'multi' if multi else 'single'}"
            res[f"{key}/logits"] = maxdiff(mine.logits, o_masks)
            res[f"{key}/low_res"] = maxdiff(mine.low_res_logits, o_low)
            res[f"{key}/iou"] = maxdiff(mine.iou_scores, o_iou)
            res[f"info:{key}/object_score"] = mine.object_score
            res[f"info:{key}/mask_fraction"] = float((mine.logits > 0).float().mean())
            if name == "single_click":
                # next round: a new click plus each side's own previous low-res logits as the mask prompt
                best = int(np.argmax(o_iou))
                pts2 = np.concatenate([pts, np.array([[w * 0.3, h * 0.4]], np.float32)])
                labs2 = np.array([1, 0], np.int32)
                mine2 = ours.predict_logits(points=pts2, labels=labs2, mask_input=mine.low_res_logits[best].numpy(), multimask_output=multi)
                o2, oi2, ol2 = official.predict(
                    point_coords=pts2, point_labels=labs2, mask_input=o_low[best][None], multimask_output=multi, return_logits=True
                )
                key2 = f"mask_prompt_with_click/{'multi' if multi else 'single'}"
                res[f"{key2}/logits"] = maxdiff(mine2.logits, o2)
                res[f"{key2}/low_res"] = maxdiff(mine2.low_res_logits, ol2)
                res[f"{key2}/iou"] = maxdiff(mine2.iou_scores, oi2)
                mine3 = ours.predict_logits(mask_input=mine.low_res_logits[best].numpy(), multimask_output=multi)
                o3, oi3, ol3 = official.predict(mask_input=o_low[best][None], multimask_output=multi, return_logits=True)
                key3 = f"mask_prompt_only/{'multi' if multi else 'single'}"
                res[f"{key3}/logits"] = maxdiff(mine3.logits, o3)
                res[f"{key3}/iou"] = maxdiff(mine3.iou_scores, oi3)
    return res


@torch.inference_mode()
def module_parity(model, off, seed: int = 0) -> dict[str, float]:  # noqa: ANN001
    """Submodules on random inputs: SAM heads (obj_ptr, object score), mask-as-output, memory encoder, memory attention."""
    gen = torch.Generator().manual_seed(seed)
    s, d, m = model.image_size, model.hidden_dim, model.mem_dim
    h = s // 16
    res: dict[str, float] = {}
    image = torch.randn(1, 3, s, s, generator=gen)
    feats = model.encode_image(image)
    backbone_out = off.forward_image(image)
    _, vf, vp, fs = off._prepare_backbone_features(backbone_out)
    res["encode_image/vision_feats"] = max(maxdiff(a, b) for a, b in zip(feats.vision_feats, vf))
    res["encode_image/vision_pos"] = max(maxdiff(a, b) for a, b in zip(feats.vision_pos_embeds, vp))
    pix = feats.image_embed
    hr = feats.high_res_features
    pts = torch.tensor([[[s * 0.4, s * 0.5], [s * 0.7, s * 0.2], [s * 0.1, s * 0.9]]])
    labs = torch.tensor([[1, 0, 1]], dtype=torch.int32)
    prev_mask = torch.randn(1, 1, s // 4, s // 4, generator=gen) * 5
    for multi in (True, False):
        for with_mask in (False, True):
            mine = model.forward_sam_heads(pix, pts, labs, prev_mask if with_mask else None, hr, multi)
            theirs = off._forward_sam_heads(
                pix, {"point_coords": pts, "point_labels": labs}, prev_mask if with_mask else None, hr, multi
            )
            key = f"forward_sam_heads/{'multi' if multi else 'single'}{'+mask' if with_mask else ''}"
            names = ["low_res_multimasks", "high_res_multimasks", "ious", "low_res_masks", "high_res_masks", "obj_ptr", "object_score_logits"]
            res[key] = max(maxdiff(getattr(mine, n), t) for n, t in zip(names, theirs))
    binary = (torch.rand(1, 1, s, s, generator=gen) > 0.5).float()
    mine = model.use_mask_as_output(pix, hr, binary)
    theirs = off._use_mask_as_output(pix, hr, binary)
    res["use_mask_as_output"] = max(maxdiff(mine.obj_ptr, theirs[5]), maxdiff(mine.low_res_masks, theirs[0]))
    high = torch.randn(2, 1, s, s, generator=gen) * 8
    score = torch.tensor([[1.5], [-0.5]])
    vf2 = [x.expand(-1, 2, -1).contiguous() for x in feats.vision_feats]
    for from_pts in (False, True):
        mine = model.encode_new_memory(vf2, feats.feat_sizes, high, score, from_pts)
        tf, tp = off._encode_new_memory(vf2, fs, high, score, from_pts)
        res[f"encode_new_memory/{'pts' if from_pts else 'sigmoid'}"] = max(maxdiff(mine.vision_features, tf), maxdiff(mine.vision_pos_enc, tp[0]))
    mem_in = torch.randn(1, d, h, h, generator=gen)
    mask_in = torch.randn(1, 1, s, s, generator=gen)
    mine = model.memory_encoder(mem_in, mask_in)
    theirs = off.memory_encoder(mem_in, mask_in)
    res["memory_encoder"] = max(maxdiff(mine.vision_features, theirs["vision_features"]), maxdiff(mine.vision_pos_enc, theirs["vision_pos_enc"][0]))
    # memory attention: 3 frames of spatial memory + 4 object pointers split into d/m tokens each
    n_ptr = 4 * (d // m)
    curr = torch.randn(h * h, 1, d, generator=gen)
    curr_pos = torch.randn(h * h, 1, d, generator=gen)
    memory = torch.randn(3 * h * h + n_ptr, 1, m, generator=gen)
    memory_pos = torch.randn(3 * h * h + n_ptr, 1, m, generator=gen)
    for n_obj in (0, n_ptr):
        mem_k = memory if n_obj else memory[: 3 * h * h]
        pos_k = memory_pos if n_obj else memory_pos[: 3 * h * h]
        mine = model.memory_attention(curr=curr, memory=mem_k, curr_pos=curr_pos, memory_pos=pos_k, num_obj_ptr_tokens=n_obj)
        theirs = off.memory_attention(curr=[curr], memory=mem_k, curr_pos=[curr_pos], memory_pos=pos_k, num_obj_ptr_tokens=n_obj)
        res[f"memory_attention/{n_obj}_ptr_tokens"] = maxdiff(mine, theirs)
        res[f"memory_attention/{n_obj}_ptr_tokens/output_absmax"] = float(theirs.abs().max())
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "large"])
    parser.add_argument("--version", default="2.1", choices=["2.0", "2.1"])
    parser.add_argument("--images", nargs="+", default=["truck.jpg", "groceries.jpg"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import_official()
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.set_grad_enabled(False)
    data = ROOT.parent / "shared" / "data" / "images"
    report: dict[str, object] = {"torch": torch.__version__, "version": args.version, "seed": args.seed, "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            ckpt = save_random_checkpoint(Path(tmp) / f"{size}.pt", config_for(args.version, size), seed=args.seed)
            ours = load_model(ckpt)
            prefix = "sam2.1/sam2.1" if args.version == "2.1" else "sam2/sam2"
            off = build_sam2(f"configs/{prefix}_hiera_{YAML[size]}.yaml", None, device="cpu")
            sd = torch.load(ckpt, map_location="cpu", weights_only=True)["model"]
            off.load_state_dict(sd, strict=True)
            off.eval()
            out: dict[str, object] = {"modules": module_parity(ours, off, args.seed)}
            for name in args.images:
                out[name] = image_parity(Sam2ImagePredictor(ours), SAM2ImagePredictor(off), load_rgb(data / name))
            diffs = [v for part in out.values() for k, v in part.items() if ("/" in k and not k.endswith("absmax") and not k.startswith("info:")) or k.startswith(("image_embed", "high_res"))]
            out["max_abs_diff"] = max(diffs)
            report["results"][size] = out
            print(json.dumps({size: out["max_abs_diff"]}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
