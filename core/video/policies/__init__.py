"""Memory policies (see ``core.video.memory_policy`` for names and configs, ``base`` for the hooks)."""

from __future__ import annotations

from core.video.memory_policy import MemoryPolicyConfig
from core.video.policies.base import MemoryPolicy


def policy_for(config: MemoryPolicyConfig) -> MemoryPolicy:
    """The policy object that runs ``config`` (policies are stateless; their state is the track's)."""
    from core.video.policies.dam4sam import Dam4samPolicy
    from core.video.policies.sam2long import Sam2LongPolicy
    from core.video.policies.samurai import SamuraiPolicy

    kinds = {"sam2": MemoryPolicy, "samurai": SamuraiPolicy, "dam4sam": Dam4samPolicy, "sam2long": Sam2LongPolicy}
    return kinds[config.name](config)


__all__ = ["MemoryPolicy", "policy_for"]
