"""Memory policies: how the tracker picks among SAM 2's three masks and which past frames it remembers.

The names and typed configs every caller uses (the CLI's ``--memory``, the prompts JSON, the
project file, ``masklet batch``). Each policy changes only three things of SAM 2's tracking, the
hooks of ``core.video.policies``: the choice among the multimask outputs, the selection of memory
frames (and object pointers), and the weighting of memory keys. The checkpoints stay the same.

- ``sam2``: the official SAM 2 tracker (the default).
- ``samurai``: SAMURAI (Yang et al., arXiv 2411.11922): a Kalman filter on the object's box
  re-weights the choice among the masks; memory keeps past frames whose scores pass thresholds.
- ``dam4sam``: DAM4SAM / "SAM2.1++" (Videnovic et al., CVPR 2025): recent frames with a
  temporal stride that skip frames where the object is absent, and a small store of
  distractor-resolving frames used as conditioning frames.
- ``sam2long``: SAM2Long (Ding et al., arXiv 2410.16268, implemented from the paper): a
  constrained tree search over pathways of mask choices, an object-aware memory per pathway and
  memory keys weighted by object-score rank.

Defaults are the papers' (and their released configurations'); see docs/memory_policies.md.
"""

from __future__ import annotations

from dataclasses import dataclass

POLICY_NAMES: tuple[str, ...] = ("sam2", "samurai", "dam4sam", "sam2long")
DEFAULT_POLICY = "sam2"


@dataclass(frozen=True)
class Sam2Memory:
    """The official SAM 2 tracker: the best-IoU mask, the last ``num_maskmem - 1`` frames."""

    name: str = "sam2"


@dataclass(frozen=True)
class SamuraiMemory:
    """SAMURAI's motion-aware choice and memory (defaults: its sam2.1 configs).

    kf_score_weight: weight of the filter's box IoU against SAM's predicted IoU once stable.
    stable_frames_threshold: frames in a row with predicted IoU above ``stable_ious_threshold``
    before the filter takes part in the choice. min_obj_score_logits: object-score logit above
    which the object counts as present (SAM 2: 0). memory_bank_*: a past frame is kept in memory
    when its chosen mask's predicted IoU, its object score and (with ``use_kf_score_in_memory``)
    the filter's IoU of the chosen mask are above these; a frame chosen before the filter was
    stable has no filter IoU and passes that test. max_memory_candidates: frames the search
    collects (its ``max_obj_ptrs_in_encoder - 1``).
    """

    name: str = "samurai"
    kf_score_weight: float = 0.25
    stable_frames_threshold: int = 15
    stable_ious_threshold: float = 0.3
    min_obj_score_logits: float = -1.0
    memory_bank_iou_threshold: float = 0.5
    memory_bank_obj_score_threshold: float = 0.0
    memory_bank_kf_score_threshold: float = 0.0
    use_kf_score_in_memory: bool = True
    max_memory_candidates: int = 15


@dataclass(frozen=True)
class Dam4samMemory:
    """DAM4SAM's distractor-aware memory (defaults: its sam21pp configs and tracker).

    ram_stride: temporal stride of the recent-frames memory (RAM). drm_size: conditioning frames
    attended to, the first prompt and the distractor-resolving memory (DRM) together
    (``max_cond_frames_in_attn``). A frame joins the DRM when its chosen mask's predicted IoU is
    above ``min_iou``, its area is within ``area_ratio`` of the median of the last
    ``area_history`` non-empty areas, more than ``min_gap`` frames passed since the last
    addition, and an alternative mask's box IoU with the chosen one is at most ``max_alt_box_iou``.
    """

    name: str = "dam4sam"
    ram_stride: int = 5
    drm_size: int = 4
    min_iou: float = 0.8
    area_ratio: float = 0.2
    area_history: int = 10
    min_gap: int = 5
    max_alt_box_iou: float = 0.7


@dataclass(frozen=True)
class Sam2LongMemory:
    """SAM2Long's constrained memory tree (defaults: the paper's).

    num_pathways: pathways kept (P). iou_threshold / object_score_threshold: a past frame enters
    a pathway's memory when its predicted IoU and object score are above these. uncertainty:
    when every pathway's object-score logit is within this of 0 (inclusive), the pathways keep
    branches with different predicted IoUs instead of the best scores. weight_low / weight_high:
    memory-key weights given by object-score rank (lowest score ``weight_low``). eps: added to the
    IoU before its log (1e-5 as in the released code; the paper does not give it).
    """

    name: str = "sam2long"
    num_pathways: int = 3
    iou_threshold: float = 0.1
    object_score_threshold: float = 0.0
    uncertainty: float = 2.0
    weight_low: float = 0.95
    weight_high: float = 1.05
    eps: float = 1e-5


MemoryPolicyConfig = Sam2Memory | SamuraiMemory | Dam4samMemory | Sam2LongMemory

_DEFAULTS: dict[str, MemoryPolicyConfig] = {
    "sam2": Sam2Memory(),
    "samurai": SamuraiMemory(),
    "dam4sam": Dam4samMemory(),
    "sam2long": Sam2LongMemory(),
}


def parse_policy(name: str | None) -> MemoryPolicyConfig:
    """A policy name (case and surrounding spaces ignored; None: the default) -> its default config.

    Raises ValueError with a one-line message naming the choices.
    """
    if name is None:
        return _DEFAULTS[DEFAULT_POLICY]
    if not isinstance(name, str):
        raise ValueError(f"memory policy must be a name ({', '.join(POLICY_NAMES)}), got {name!r}")
    key = name.strip().lower()
    if key not in _DEFAULTS:
        raise ValueError(f"unknown memory policy {name!r}: choose one of {', '.join(POLICY_NAMES)}")
    return _DEFAULTS[key]


def is_default(config: MemoryPolicyConfig) -> bool:
    return config.name == DEFAULT_POLICY
