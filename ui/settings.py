"""Persistent settings of the window (QSettings): layout, overlay look, recent files, caches, model
(the model's own keys belong to annotator.checkpoint_settings.CheckpointSettings).

One typed accessor per setting, so no widget spells a key by hand. The window layout carries a
version: a layout saved by an older window is ignored instead of misplacing the docks.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from annotator.checkpoint_settings import CheckpointSettings

LAYOUT_VERSION = 1
MAX_RECENT = 10


class AppSettings:
    """Typed view of Masklet's QSettings (organisation and application "Masklet")."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Masklet", "Masklet")

    def _get(self, key: str, default: object, kind: type) -> object:
        value = self.q.value(key, default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    # -- overlay ---------------------------------------------------------------------------
    @property
    def opacity(self) -> float:
        """Mask fill opacity, 0..1."""
        return min(1.0, max(0.0, float(self._get("view/opacity", 0.45, float))))

    @opacity.setter
    def opacity(self, value: float) -> None:
        self.q.setValue("view/opacity", float(value))

    @property
    def outline(self) -> bool:
        return bool(self._get("view/outline", True, bool))

    @outline.setter
    def outline(self, value: bool) -> None:
        self.q.setValue("view/outline", bool(value))

    @property
    def brush_size(self) -> int:
        """Brush diameter in image pixels."""
        return int(self._get("tools/brush_size", 20, int))

    @brush_size.setter
    def brush_size(self, value: int) -> None:
        self.q.setValue("tools/brush_size", int(value))

    # -- caches ----------------------------------------------------------------------------
    @property
    def frame_cache_mb(self) -> int:
        return int(self._get("cache/frames_mb", 512, int))

    @frame_cache_mb.setter
    def frame_cache_mb(self, value: int) -> None:
        self.q.setValue("cache/frames_mb", int(value))

    @property
    def feature_cache_frames(self) -> int:
        """How many frames' image features the engine keeps."""
        return int(self._get("cache/feature_frames", 16, int))

    @feature_cache_frames.setter
    def feature_cache_frames(self, value: int) -> None:
        self.q.setValue("cache/feature_frames", int(value))

    # -- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.q.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: str) -> list[str]:
        files = [path] + [p for p in self.recent_files() if p != path]
        self.q.setValue("files/recent", files[:MAX_RECENT])
        return files[:MAX_RECENT]

    def clear_recent(self) -> None:
        self.q.setValue("files/recent", [])

    # -- model ---------------------------------------------------------------------------
    def model_settings(self) -> CheckpointSettings:
        """The model choice (shared with the Model dialog, which saves it)."""
        return CheckpointSettings(self.q)

    # -- window layout ---------------------------------------------------------------------
    def save_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/layout_version", LAYOUT_VERSION)
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def layout(self) -> tuple[QByteArray, QByteArray] | None:
        if int(self._get("window/layout_version", 0, int)) != LAYOUT_VERSION:
            return None
        geometry, state = self.q.value("window/geometry"), self.q.value("window/state")
        if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
            return None
        return geometry, state

    def sync(self) -> None:
        self.q.sync()
