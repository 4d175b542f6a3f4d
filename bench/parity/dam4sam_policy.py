"""DAM4SAM parity: Masklet's ``dam4sam`` memory policy against DAM4SAM's released tracker, in its setting.

One object initialised with a mask on frame 0, forward, the same random weights in the official
format (SAM 2.1 tiny config, as bench/parity/video_parity.py makes them, with a weight offset, see
below), fp32 on the CPU, the same JPEG frames. DAM4SAM's code (github jovanavidenovic/DAM4SAM,
Apache-2.0) is never copied or committed: it is unpacked outside the checkout and its own tracker
class (``dam4sam_tracker.DAM4SAMTracker``: frame-by-frame ``initialize`` / ``track``, the DRM
rules) runs in the official SAM 2 reference venv with the VOT toolkit it imports beside it.

  git --git-dir=<DAM4SAM mirror> archive HEAD | tar -x -C /work/ext/dam4sam
  pip install --no-deps --target /work/ext/pylib-dam4sam vot-toolkit==0.7.1 attributee==0.1.9 \
      numba llvmlite lazy-object-proxy phx-class-registry six colorama matplotlib contourpy \
      cycler fonttools kiwisolver pyparsing python-dateutil     (what ``vot.region`` imports)
  .venv/bin/python bench/parity/dam4sam_policy.py checkpoint OUT   (random weights + offsets per video)
  .venv/bin/python bench/parity/dam4sam_policy.py frames OUT       (the second video's frames)
  $SAM2_OFFICIAL_PYTHON bench/parity/dam4sam_policy.py reference OUT   (DAM4SAM_DIR, DAM4SAM_PYLIB)
  .venv/bin/python bench/parity/dam4sam_policy.py compare OUT      (runs ours, prints JSON)
  .venv/bin/python bench/parity/dam4sam_policy.py ours OUT         (ours only: rows and counts,
                                                                    to search settings quickly)

Their setting, and how the harness gives our engine the same (nothing of the app changes):
- their tracker resizes each frame with torchvision's ``resize`` on the float tensor (bilinear,
  antialiased) where SAM 2's loader uses PIL bicubic: our side gets the same frame tensor
  (``core.video.features.frame_to_input`` replaced here by that resize);
- their SAM 2 fork disables hole filling (``fill_holes_in_mask_scores`` returns its input): ours
  runs with ``fill_hole_area=0``;
- their tracker is online: the predictor's ``num_frames`` is the number of frames seen so far,
  which sets how many object pointers are read and their temporal encoding's scale: our engine's
  frame count (``StepContext.num_frames``) is set to the frames seen so far before each frame;
- the object is initialised with a mask (``add_new_mask``): ours gets the same mask (``add_mask``);
- their code runs on CUDA only: here ``Tensor.cuda`` is the identity, their state's device is the
  CPU, and the memory attention gets the bfloat16 memories as float32 (as video_parity does).

Random weights predict flat IoUs (about 0.62), below the DRM's 0.8 gate, masks that cover the
whole frame (so no alternative differs from the chosen mask) and an object that is always
present. The released thresholds (IoU 0.8, area +-20 %, gap 5, box IoU 0.7, stride 5) are literals
in their tracker and stay as released; instead the checkpoint of each video gets three offsets,
the same on both sides: ``DAM4SAM_IOU_OFFSET`` added to the IoU head's last bias (moves the
predicted IoUs around 0.8), ``DAM4SAM_SCORE_OFFSET`` to the object-score head's last bias (makes
the object absent on some frames) and ``DAM4SAM_MASK_OFFSET``: channel 0 of the mask decoder's
upscaled embedding is made a constant (GELU(1); its conv weights zeroed, bias 1) and the offset
is added to channel 0 of the third mask token's hypernetwork output (the mask these weights
choose, whose logits are positive almost everywhere), which shifts that mask's logits by
offset * GELU(1): a partial chosen mask, so that the two others reach outside it. Each is a
"bedroom=..,dog=.." list or one number. One threshold may be set on both sides as well,
``DAM4SAM_MAX_BOX_IOU`` (released: 0.7, the box IoU of an alternative at or below which the frame
joins the DRM): random masks reach every border of the frame, so every box IoU is exactly 1.0 and
the addition could not act at 0.7; on the reference side the literal in ``track``'s source is
replaced in memory (the file is not changed), on ours ``Dam4samMemory.max_alt_box_iou``.
PARITY_IMAGE_SIZE (default 1024) runs the same weights at another input size, as video_parity.

Per-token offsets (unset: nothing changes), added after the three above, to make the remaining
store branches act: ``DAM4SAM_IOU_TOKEN_OFFSET`` ("dog=a:b:c": added to the IoU head's bias of
multimask outputs 1-3, which orders them; a near tie makes the chosen token, and so the chosen
mask's area, change between frames) and ``DAM4SAM_MASK_TOKEN_OFFSET`` ("dog=a:b:c": channel 0 made
constant as above and each offset added to that output's channel-0 hypernetwork bias; a large
offset on the chosen token makes it cover the frame, so no alternative reaches outside it), both
parsed by bench/parity/policy_weights.py. DAM4SAM_FRAMES (default 24) takes more frames of the
dog video (``frames`` writes them); with the gap of 5 the store adds at most every 6th frame, so
a fifth conditioning frame needs at least 21 frames.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
VIDEOS = {
    "bedroom": ROOT.parent / "shared" / "data" / "frames" / "bedroom",
    "dog": None,  # 24 frames of shared/data/videos/01_dog.mp4 written as JPEGs by ``frames``
}
if os.environ.get("DAM4SAM_VIDEOS"):  # e.g. "dog": a run of one video's setting
    VIDEOS = {v: VIDEOS[v] for v in os.environ["DAM4SAM_VIDEOS"].split(",")}
DOG_SOURCE = ROOT.parent / "shared" / "data" / "videos" / "01_dog.mp4"
NUM_FRAMES = int(os.environ.get("DAM4SAM_FRAMES", "24"))  # fewer: a quick smoke test of the harness
IMAGE_SIZE = int(os.environ.get("PARITY_IMAGE_SIZE", "1024"))
IOU_OFFSET = os.environ.get("DAM4SAM_IOU_OFFSET", "0")
SCORE_OFFSET = os.environ.get("DAM4SAM_SCORE_OFFSET", "0")
MASK_OFFSET = os.environ.get("DAM4SAM_MASK_OFFSET", "0")
MAX_BOX_IOU = os.environ.get("DAM4SAM_MAX_BOX_IOU", "0.7")  # the released literal; see below
IOU_TOKEN_OFFSET = os.environ.get("DAM4SAM_IOU_TOKEN_OFFSET", "")  # "video=a:b:c" (outputs 1-3)
MASK_TOKEN_OFFSET = os.environ.get("DAM4SAM_MASK_TOKEN_OFFSET", "")
DRM_SIZE = 4  # the released max_cond_frames_in_attn (conditioning frames attended at most)
STRIDE = 5  # the released memory_temporal_stride_for_eval
# the initial mask: an ellipse (centre x, y, half-axes a, b) in video pixels
INIT_ELLIPSE = {"bedroom": (480, 300, 150, 90), "dog": (640, 400, 220, 160)}


def frames_dir(out: Path, video: str) -> Path:
    return VIDEOS[video] if VIDEOS[video] is not None else out / f"{video}_frames"


def per_video(spec: str, video: str) -> float:
    if "=" not in spec:
        return float(spec)
    return float(dict(part.split("=") for part in spec.split(","))[video])


def checkpoint_path(out: Path, video: str) -> Path:
    return out / f"dam4sam_random_{video}.pt"


def init_mask(height: int, width: int, video: str) -> np.ndarray:
    cx, cy, a, b = INIT_ELLIPSE[video]
    y, x = np.mgrid[0:height, 0:width]
    return ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0


def frame_paths(out: Path, video: str) -> list[Path]:
    return sorted(frames_dir(out, video).glob("*.jpg"))[:NUM_FRAMES]


# ---------------------------------------------------------------------- counts (both sides alike)
def derived_counts(rows: list[dict]) -> dict:
    """Branch counts from what each side recorded per frame, computed the same way for both.

    rows[f]: area (positive low-resolution pixels of the chosen mask: absent when 0, the RAM's
    test), n (positive pixels at video size: the DRM's area), cond (a conditioning frame
    when frame f was tracked: 0 and DRM frames added before), memory [(frame, tpos)] attended,
    iou (best predicted IoU), ratio, gap_ok, alt_box_ious (None: the box test was not reached),
    candidate (recorded directly: the frame passed the first four tests and its alternatives were
    examined; the reference: its tracker built a ``Mask`` during ``track``, ours: the policy
    counted a store candidate).
    The DRM decision follows the released order of tests; "absent skipped" counts frames the
    RAM walk passed over because the object was absent there (between consecutive RAM frames).
    """
    c = {k: 0 for k in ("tracked", "absent_frames", "absent_frames_skipped", "ram_frames", "ram_stride_frames",
                        "drm_frames_attended", "drm_added", "rejected_absent", "rejected_iou",
                        "rejected_area_ratio", "rejected_gap", "rejected_no_alternative", "rejected_box_iou",
                        "rejected_area_ratio_with_history", "frames_with_more_cond_than_drm",
                        "cond_frames_left_out", "store_candidates_recorded")}
    for f, row in enumerate(rows):
        if f == 0:
            continue
        c["tracked"] += 1
        c["store_candidates_recorded"] += int(row.get("candidate", False))
        c["absent_frames"] += int(row["area"] < 1)
        conds = set(row["cond"])
        ram = sorted({t for t, _ in row["memory"] if t not in conds or t == f - 1}, reverse=True)
        drm = [t for t, _ in row["memory"] if t in conds and t != f - 1]
        c["ram_frames"] += len(ram)
        c["ram_stride_frames"] += sum(1 for t in ram if t != f - 1 and t % STRIDE == 0)
        c["drm_frames_attended"] += len(drm)
        # more conditioning frames (the prompt and the store's frames) than the DRM attends: the
        # ones the selection left out (never counting the previous frame, read as a RAM frame)
        if len(conds) > DRM_SIZE:
            c["frames_with_more_cond_than_drm"] += 1
            c["cond_frames_left_out"] += len(conds - {t for t, _ in row["memory"]})
        # the walk: slot 0 steps back by 1 from f - 1, later slots by the stride from the grid
        examined: list[int] = []
        if ram:
            examined += list(range(f - 1, ram[0], -1))
            for hi, lo in zip(ram, ram[1:]):
                q = ((hi - 1) // STRIDE) * STRIDE
                examined += list(range(q, lo, -STRIDE))
        c["absent_frames_skipped"] += sum(1 for t in examined if t > 0 and t not in conds and rows[t]["area"] < 1)
        if row["n"] < 1:
            c["rejected_absent"] += 1
        elif not row["iou"] > 0.8:
            c["rejected_iou"] += 1
        elif not 0.8 <= row["ratio"] <= 1.2:
            c["rejected_area_ratio"] += 1
            # -1: no area history (the first tracked frame); else outside +-20 % of the median
            c["rejected_area_ratio_with_history"] += int(row["ratio"] >= 0)
        elif not row["gap_ok"]:
            c["rejected_gap"] += 1
        elif not row["alt_box_ious"]:
            c["rejected_no_alternative"] += 1
        elif min(row["alt_box_ious"]) > row["max_box"]:
            c["rejected_box_iou"] += 1
        else:
            c["drm_added"] += 1
    return c


def gate_values(areas: list[int], n: int, frame: int, last_added: int) -> tuple[float, bool]:
    """(area ratio, gap test) of a tracked frame as the released tracker computes them; areas
    includes this frame's."""
    ratio = -1.0
    if len(areas) > 1 and n >= 1:
        ratio = n / float(np.median([a for a in areas[-300:] if a >= 1][-10:]))
    return ratio, (frame - last_added > 5 or last_added == -1)


# ---------------------------------------------------------------------- reference
def run_reference(out: Path) -> None:
    import types

    import torch

    dam = Path(os.environ.get("DAM4SAM_DIR", "/work/ext/dam4sam"))
    sys.path.insert(0, str(ROOT))
    from bench.parity.official import import_official

    import_official(str(dam))  # DAM4SAM's fork of the sam2 package (its repository root holds ``sam2``)
    sys.path.append(os.environ.get("DAM4SAM_PYLIB", "/work/ext/pylib-dam4sam"))
    from PIL import Image

    torch.Tensor.cuda = lambda self, *a, **k: self  # their memory code calls .cuda(); CPU here
    import dam4sam_tracker as dt
    from sam2.build_sam import build_sam2_video_predictor

    class _CpuTorch:  # their state builder asks for torch.device("cuda")
        def __getattr__(self, name):
            return getattr(torch, name)

        @staticmethod
        def device(*_a, **_k):
            return torch.device("cpu")

    dt.torch = _CpuTorch()
    import inspect
    import textwrap

    released_track = dt.DAM4SAMTracker.track
    track_source = textwrap.dedent(inspect.getsource(released_track))
    literal = "np.min(np.array(ious)) <= 0.7"
    assert track_source.count(literal) == 1, "DAM4SAM's tracker changed: its box-IoU test was not found"
    torch.set_grad_enabled(False)
    result = {}
    for video in VIDEOS:
        max_box = per_video(MAX_BOX_IOU, video)
        if max_box == 0.7:
            dt.DAM4SAMTracker.track = released_track
        else:  # the same function with the threshold as set on both sides
            namespace = vars(dt)  # its module's globals (where the harness's wrappers are set)
            exec(compile(track_source.replace(literal, f"np.min(np.array(ious)) <= {max_box!r}"), dt.__file__, "exec"),
                 namespace)
            dt.DAM4SAMTracker.track = namespace.pop("track")
        tracker = dt.DAM4SAMTracker.__new__(dt.DAM4SAMTracker)
        tracker.input_image_size = IMAGE_SIZE
        tracker.img_mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32)[:, None, None]
        tracker.img_std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32)[:, None, None]
        tracker.tracking_times = []
        predictor = build_sam2_video_predictor("sam21pp_hiera_t.yaml", str(checkpoint_path(out, video)), device="cpu",
                                               hydra_overrides_extra=[f"++model.image_size={IMAGE_SIZE}"])
        tracker.predictor = predictor
        attn_forward = predictor.memory_attention.forward
        seen: list[list] = []  # per memory-attention call: [(frame, tpos)]

        def attn_float(*args, _f=attn_forward, **kwargs):
            memory, memory_pos = kwargs["memory"].float(), kwargs["memory_pos"].float()
            kwargs["memory"] = memory
            seen.append(identify(memory, memory_pos, kwargs.get("num_obj_ptr_tokens", 0)))
            return _f(*args, **kwargs)

        def identify(memory, memory_pos, n_ptr):
            outs = tracker.inference_state["output_dict"]
            frames = {**outs["non_cond_frame_outputs"], **outs["cond_frame_outputs"]}
            hw = None
            found = []
            spatial = memory[: memory.shape[0] - n_ptr]
            spatial_pos = memory_pos[: memory.shape[0] - n_ptr]
            for t, o in frames.items():
                if o.get("maskmem_features") is None:
                    continue
                feats = o["maskmem_features"].float().flatten(2).permute(2, 0, 1)
                hw = feats.shape[0]
                base = o["maskmem_pos_enc"][-1].float().flatten(2).permute(2, 0, 1)
                for k in range(spatial.shape[0] // hw):
                    if torch.equal(spatial[k * hw:(k + 1) * hw], feats):
                        diff = spatial_pos[k * hw:(k + 1) * hw] - base
                        tpos = [i for i in range(predictor.num_maskmem)
                                if torch.allclose(diff, predictor.maskmem_tpos_enc[i].float().expand_as(diff), atol=1e-5)]
                        found.append((k, t, tpos[0] if tpos else -1))
            found.sort()
            return [(t, tp) for _, t, tp in found]

        predictor.memory_attention.forward = attn_float
        box_ious: list[list[float]] = []
        overlaps = dt.calculate_overlaps

        def counted_overlaps(a, b, *args, **kwargs):
            res = overlaps(a, b, *args, **kwargs)
            box_ious[-1].append(float(res[0]))
            return res

        dt.calculate_overlaps = counted_overlaps
        masks_made = [0]  # Mask(...) is built only for a store candidate (the alternatives and the chosen box)
        released_mask = dt.Mask

        def counted_mask(*args, **kwargs):
            masks_made[0] += 1
            return released_mask(*args, **kwargs)

        dt.Mask = counted_mask
        added: list[int] = []
        add_to_drm = predictor.add_to_drm

        def counted_add(*args, _a=add_to_drm, **kwargs):
            added.append(int(kwargs["frame_idx"]))
            return _a(*args, **kwargs)

        predictor.add_to_drm = counted_add
        paths = frame_paths(out, video)
        images = [Image.open(p).convert("RGB") for p in paths]
        mask = init_mask(images[0].height, images[0].width, video)
        records: dict[str, np.ndarray] = {}
        rows: list[dict] = []
        tracker.initialize(images[0], mask.astype(np.uint8))
        t0 = time.time()
        for f in range(1, len(images)):
            outs = tracker.inference_state["output_dict"]
            cond = sorted(set(outs["cond_frame_outputs"]) | set(tracker.inference_state["temp_output_dict_per_obj"][0]["cond_frame_outputs"]))
            last_added = tracker.last_added
            seen.clear()
            box_ious.append([])
            masks_made[0] = 0
            res = tracker.track(images[f])
            o = tracker.inference_state["output_dict"]["non_cond_frame_outputs"][f]
            ious = np.asarray(o["all_pred_masks"][1], np.float32)
            n = int(o["n_pixels_pos"])
            ratio, gap_ok = gate_values(tracker.object_sizes, int(res["pred_mask"].sum()), f, last_added)
            rows.append({"area": n, "n": int(res["pred_mask"].sum()), "cond": cond, "memory": seen[0] if seen else [], "iou": float(ious.max()),
                         "ratio": ratio, "gap_ok": gap_ok, "max_box": per_video(MAX_BOX_IOU, video), "alt_box_ious": box_ious[-1] or None,
                         "score": float(o["object_score_logits"].flatten()[0]), "candidate": masks_made[0] > 0})
            records[f"{f}.logits"] = o["pred_masks"][0, 0].float().numpy()
            records[f"{f}.mask"] = np.packbits(res["pred_mask"] > 0)
            records[f"{f}.iou"] = np.array([float(ious.max())])
            print(video, f, f"{time.time() - t0:.0f}s", flush=True)
        c0 = tracker.inference_state["output_dict"]["cond_frame_outputs"][0]
        records["0.logits"] = c0["pred_masks"][0, 0].float().numpy()
        records["0.mask"] = np.packbits(tracker_video_mask(predictor, tracker, c0) > 0)
        records["0.iou"] = np.array([1.0])
        rows.insert(0, {"area": int(torch.as_tensor(c0["n_pixels_pos"]).flatten()[0]), "n": -1, "cond": [], "memory": [], "iou": 1.0, "ratio": -1.0, "gap_ok": True, "alt_box_ious": None, "score": 0.0})
        np.savez_compressed(out / f"dam4sam_ref_{video}_{IMAGE_SIZE}.npz", **records)
        result[video] = {"rows": rows, "added": added, "counts": derived_counts(rows)}
        dt.calculate_overlaps = overlaps
        dt.Mask = released_mask
    (out / f"dam4sam_ref_{IMAGE_SIZE}.json").write_text(json.dumps(result))
    print(json.dumps({v: r["counts"] for v, r in result.items()}))


def tracker_video_mask(predictor, tracker, out) -> np.ndarray:
    _, video_res = predictor._get_orig_video_res_output(tracker.inference_state, out["pred_masks"])
    return video_res[0, 0].numpy()


# ---------------------------------------------------------------------- ours
def run_ours(out: Path, video: str) -> tuple[dict[str, np.ndarray], list[dict], list[int], dict]:
    sys.path.insert(0, str(ROOT))
    import torch
    import torch.nn.functional as F
    from PIL import Image

    import core.video.features as features
    import core.video.policies.dam4sam as dmod
    from core.sam2.checkpoint import load_model
    from core.sam2.model import Sam2Model
    from core.types import Direction, VideoInfo
    from core.video import VideoSession
    from core.video.memory_policy import Dam4samMemory
    from core.video.policies.dam4sam import Dam4samPolicy
    from core.video.preprocess import IMAGE_MEAN, IMAGE_STD

    paths = frame_paths(out, video)

    def their_resize(frame: np.ndarray, image_size: int) -> torch.Tensor:
        # DAM4SAMTracker._prepare_image: uint8 -> float / 255 -> torchvision resize (bilinear,
        # antialiased: torch's interpolate) -> normalise
        img = torch.from_numpy(np.array(frame)).permute(2, 0, 1).float() / 255.0
        img = F.interpolate(img[None], size=(image_size, image_size), mode="bilinear", align_corners=False,
                            antialias=True)[0]
        mean = torch.tensor(IMAGE_MEAN, dtype=torch.float32)[:, None, None]
        std = torch.tensor(IMAGE_STD, dtype=torch.float32)[:, None, None]
        return ((img - mean) / std).unsqueeze(0)

    # the feature cache's frame -> model input (its name has changed with the engine's work)
    if hasattr(features, "frame_to_model_input"):
        features.frame_to_model_input = lambda frame, size, device: their_resize(frame, size).to(device)
    else:
        features.frame_to_input = their_resize

    class Frames:
        def __init__(self) -> None:
            w, h = Image.open(paths[0]).size
            self.info = VideoInfo(w, h, len(paths), 24.0)

        def __len__(self) -> int:
            return len(paths)

        def get(self, i: int) -> np.ndarray:
            return np.asarray(Image.open(paths[i]).convert("RGB"))

    model = load_model(checkpoint_path(out, video))
    if IMAGE_SIZE != model.image_size:
        resized = Sam2Model(model.config.replace(image_size=IMAGE_SIZE))
        resized.load_state_dict(model.state_dict())
        model = resized.eval()
    frames = Frames()
    session = VideoSession(model, frames, keep_logits=True, fill_hole_area=0)
    session.set_memory_policy(1, Dam4samMemory(max_alt_box_iou=per_video(MAX_BOX_IOU, video)))
    # what each tracked frame attended: wrap the policy's selection (entries -> frame numbers)
    seen: list[list] = []
    select = Dam4samPolicy.select

    def recorded(self, model_, trk, frame, reverse, num_frames, locked, _s=select):
        sel = _s(self, model_, trk, frame, reverse, num_frames, locked)
        st = trk.policy_state
        where = {id(e): t for t, e in {**trk.non_cond, **trk.cond, **st.drm}.items()}
        seen.append([(where[id(e)], tpos) for e, tpos in sel.spatial])
        return sel

    Dam4samPolicy.select = recorded
    box_ious: list[float] = []  # the box IoUs of the frame's alternatives (the DRM's last test)
    box_iou = dmod._box_iou

    def recorded_box_iou(a, b, _b=box_iou):
        r = _b(a, b)
        box_ious.append(r)
        return r

    dmod._box_iou = recorded_box_iou
    mask = init_mask(frames.info.height, frames.info.width, video)
    session.add_mask(0, 1, mask)
    records: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    added: list[int] = []
    areas: list[int] = []
    session._ctx.num_frames = 1  # online, as their tracker: frames seen so far
    candidates = 0
    try:
        for res in session.propagate(0, Direction.FORWARD):
            f = res.frame
            m = res.objects[1]
            trk = session.track_state(1)
            st = trk.policy_state
            records[f"{f}.logits"] = m.low_res_logits
            records[f"{f}.mask"] = np.packbits(m.rle.decode())
            records[f"{f}.iou"] = np.array([m.iou])
            if f == 0:
                entry = trk.cond[0]
                rows.append({"area": entry.area, "n": -1, "cond": [], "memory": [], "iou": 1.0, "ratio": -1.0, "gap_ok": True,
                             "alt_box_ious": None, "score": 0.0})
            else:
                entry = st.drm.get(f) or trk.non_cond[f]
                n = int(m.rle.decode().sum())
                areas.append(n)
                last_added = max([t for t in added], default=-1)
                ratio, gap_ok = gate_values(areas, n, f, last_added)
                if f in st.drm:
                    added.append(f)
                rows.append({"area": entry.area, "n": n, "cond": sorted(set(trk.cond) | {t for t in st.drm if t < f}),
                             "memory": seen[-1], "iou": float(m.iou), "ratio": ratio, "gap_ok": gap_ok, "max_box": per_video(MAX_BOX_IOU, video),
                             "alt_box_ious": list(box_ious) or None, "score": float(entry.score.flatten()[0]),
                             "candidate": st.counts.get("store_candidate", 0) > candidates})
                candidates = st.counts.get("store_candidate", 0)
            box_ious.clear()
            session._ctx.num_frames = min(f + 2, len(frames))
    finally:
        Dam4samPolicy.select = select
        dmod._box_iou = box_iou
    return records, rows, added, dict(session.track_state(1).policy_state.counts)


ROW_KEYS = ("area", "n", "iou", "ratio", "score", "memory", "alt_box_ious", "cond", "candidate")


def settings(video: str) -> dict:
    from bench.parity.policy_weights import offsets

    s = {"iou_offset": per_video(IOU_OFFSET, video), "score_offset": per_video(SCORE_OFFSET, video),
         "mask_offset": per_video(MASK_OFFSET, video), "max_alt_box_iou": per_video(MAX_BOX_IOU, video)}
    if offsets(IOU_TOKEN_OFFSET, video) is not None:
        s["iou_token_offsets"] = offsets(IOU_TOKEN_OFFSET, video)
    if offsets(MASK_TOKEN_OFFSET, video) is not None:
        s["mask_token_offsets"] = offsets(MASK_TOKEN_OFFSET, video)
    return s


def ours_only(out: Path) -> dict:
    """Our side alone, per video: the rows that decide each branch and the counts."""
    report = {}
    for video in VIDEOS:
        _, rows, added, counts = run_ours(out, video)
        report[video] = {"settings": settings(video), "drm_added": added, "counts": derived_counts(rows),
                         "our_policy_counters": counts,
                         "rows": [{"f": f, "n": r["n"], "iou": round(r["iou"], 4), "ratio": round(r["ratio"], 3),
                                   "cond": r["cond"], "alt_box_ious": r["alt_box_ious"]} for f, r in enumerate(rows)]}
    return report


def compare(out: Path) -> dict:
    ref_all = json.loads((out / f"dam4sam_ref_{IMAGE_SIZE}.json").read_text())
    report: dict = {"image_size": IMAGE_SIZE}
    for video in VIDEOS:
        ref = np.load(out / f"dam4sam_ref_{video}_{IMAGE_SIZE}.npz")
        ours, rows, added, counts = run_ours(out, video)
        frames = sorted({int(k.split(".")[0]) for k in ref.files})
        worst_logit, worst_iou, per_frame = 0.0, 1.0, []
        for f in frames:
            a, b = ref[f"{f}.logits"], ours[f"{f}.logits"]
            diff = float(np.abs(a - b).max())
            ma, mb = np.unpackbits(ref[f"{f}.mask"]).astype(bool), np.unpackbits(ours[f"{f}.mask"]).astype(bool)
            union = int((ma | mb).sum())
            iou = 1.0 if union == 0 else float((ma & mb).sum() / union)
            worst_logit, worst_iou = max(worst_logit, diff), min(worst_iou, iou)
            per_frame.append({"frame": f, "logit_diff": diff, "mask_iou": iou})
        ref_rows = ref_all[video]["rows"]
        box_diff = max((abs(a - b) for r, o in zip(ref_rows, rows) if r["alt_box_ious"] or o["alt_box_ious"]
                        for a, b in zip(r["alt_box_ious"] or [-1.0], o["alt_box_ious"] or [-2.0])), default=0.0)
        memory_same = [f for f in range(1, len(rows)) if [tuple(x) for x in rows[f]["memory"]] != [tuple(x) for x in ref_rows[f]["memory"]]]
        ours_counts = derived_counts(rows)
        report[video] = {
            "settings": settings(video),
            "frames": len(frames), "max_abs_logit_diff": worst_logit, "min_mask_iou": worst_iou,
            "drm_added": {"reference": ref_all[video]["added"], "ours": added},
            "memory_frames_differ_on": memory_same,
            "max_alt_box_iou_diff": box_diff,
            "counts_equal": ours_counts == ref_all[video]["counts"],
            "pass": (len(frames) == NUM_FRAMES and worst_logit <= 1e-3 and worst_iou >= 0.999
                     and added == ref_all[video]["added"] and not memory_same and box_diff <= 1e-9
                     and ours_counts == ref_all[video]["counts"]),
            "reference_counts": ref_all[video]["counts"], "our_counts": ours_counts, "our_policy_counters": counts,
            "per_frame": per_frame,
            "reference_rows": [{k: r.get(k) for k in ROW_KEYS} for r in ref_rows],
            "our_rows": [{k: r.get(k) for k in ROW_KEYS} for r in rows],
        }
    return report


# ---------------------------------------------------------------------- set-up
def make_checkpoints(out: Path) -> None:
    import torch

    sys.path.insert(0, str(ROOT))
    from bench.parity.video_parity import make_checkpoint

    if not (out / "tiny_random.pt").is_file():
        make_checkpoint(out)
    from bench.parity.policy_weights import apply_offsets, offsets

    base = torch.load(out / "tiny_random.pt", weights_only=True)
    for video in VIDEOS:
        sd = {k: v.clone() for k, v in base["model"].items()}
        sd["sam_mask_decoder.iou_prediction_head.layers.2.bias"] += per_video(IOU_OFFSET, video)
        sd["sam_mask_decoder.pred_obj_score_head.layers.2.bias"] += per_video(SCORE_OFFSET, video)
        delta = per_video(MASK_OFFSET, video)
        if delta:
            # the third multimask token: the mask these weights choose (the highest predicted IoU)
            apply_offsets(sd, None, [0.0, 0.0, delta])
        apply_offsets(sd, offsets(IOU_TOKEN_OFFSET, video), offsets(MASK_TOKEN_OFFSET, video))
        torch.save({**base, "model": sd}, checkpoint_path(out, video))


def write_frames(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from core.frames import open_frames

    target = out / "dog_frames"
    target.mkdir(parents=True, exist_ok=True)
    source = open_frames(str(DOG_SOURCE))
    for i in range(NUM_FRAMES):
        Image.fromarray(source.get(i)).save(target / f"{i:05d}.jpg", quality=95)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("checkpoint", "frames", "reference", "compare", "ours"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    if sys.argv[1] == "checkpoint":
        make_checkpoints(out)
    elif sys.argv[1] == "frames":
        write_frames(out)
    elif sys.argv[1] == "reference":
        run_reference(out)
    elif sys.argv[1] == "ours":
        print(json.dumps(ours_only(out), indent=1))
    else:
        result = compare(out)
        print(json.dumps({v: {k: x for k, x in r.items() if k not in ("per_frame", "reference_rows", "our_rows")}
                          if isinstance(r, dict) else r for v, r in result.items()}, indent=1))
        (out / f"dam4sam_compare_{IMAGE_SIZE}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
