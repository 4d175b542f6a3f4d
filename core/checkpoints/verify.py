"""The load check: what a checkpoint file holds (version, size), recognised from its tensors.

Wraps ``core.sam2.checkpoint.inspect_checkpoint`` (imported when first used: it needs torch)
and turns any failure into ``CheckpointRejected`` with one clear line. Used by the download
(a file is accepted only if it loads and is the very model it was downloaded as) and by
"Use a local file" (any loadable SAM 2 checkpoint, official or a custom configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.checkpoints.catalogue import CATALOGUE, CheckpointEntry
from core.checkpoints.download import Verifier
from core.checkpoints.progress import format_bytes


class CheckpointRejected(ValueError):
    """The file is not a usable SAM 2 checkpoint, or not the one expected; one-line message."""


@dataclass(frozen=True)
class CheckpointFacts:
    """What a checkpoint file holds.

    version: "2.0" | "2.1" | "custom"; size: "tiny" | "small" | "base_plus" | "large" or a custom
    configuration's name; parameters: elements of all its tensors; file_bytes: size on disk.
    """

    path: Path
    version: str
    size: str
    parameters: int
    file_bytes: int

    @property
    def official(self) -> CheckpointEntry | None:
        """The catalogue entry of the same version and size; None for a custom configuration."""
        return next((e for e in CATALOGUE if (e.version.value, e.size.value) == (self.version, self.size)), None)

    @property
    def title(self) -> str:
        entry = self.official
        return entry.title if entry is not None else f"custom SAM 2 configuration ({self.size})"

    @property
    def description(self) -> str:
        """``SAM 2.1 tiny, 39.0 M parameters, 156.0 MB``"""
        return f"{self.title}, {self.parameters / 1e6:.1f} M parameters, {format_bytes(self.file_bytes)}"


def inspect_file(path: Path) -> CheckpointFacts:
    """Recognise the checkpoint at ``path`` from its tensor names and shapes.

    Raises CheckpointRejected (never anything else) when it is missing, unreadable, not a
    SAM 2 checkpoint, or of an unknown architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointRejected(f"{path} does not exist or is not a file")
    try:
        from core.sam2.checkpoint import inspect_checkpoint

        info = inspect_checkpoint(path)
    except Exception as exc:  # noqa: BLE001 - every way a file can be wrong ends in one clear line
        text = str(exc).strip()
        reason = text.splitlines()[0] if text else type(exc).__name__
        raise CheckpointRejected(f"not a usable SAM 2 checkpoint: {reason}") from None
    return CheckpointFacts(
        path=path,
        version=str(info.version),
        size=str(info.size),
        parameters=int(info.num_parameters),
        file_bytes=path.stat().st_size,
    )


def verifier_for(entry: CheckpointEntry) -> Verifier:
    """A load check that also insists on ``entry``'s version and size."""

    def verify(path: Path) -> CheckpointFacts:
        facts = inspect_file(path)
        if facts.official is not entry:
            raise CheckpointRejected(f"the file holds {facts.title}, not {entry.title}")
        return facts

    return verify
