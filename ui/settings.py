"""Persistent settings of the window (QSettings): layout, overlay look, recent files, caches, model
(the model's own keys belong to annotator.checkpoint_settings.CheckpointSettings).

One typed accessor per setting, so no widget spells a key by hand. The window layout carries a
version: a layout saved by an older window is ignored instead of misplacing the docks.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from annotator.checkpoint_settings import CheckpointSettings
from annotator.suspect import SuspectThresholds

LAYOUT_VERSION = 1
MAX_RECENT = 10


def read_value(q: QSettings, key: str, default: object, kind: type) -> object:
    """``key`` as ``kind`` (ini files store text), ``default`` when absent or unreadable."""
    value = q.value(key, default)
    try:
        if kind is bool and isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return kind(value)
    except (TypeError, ValueError):
        return default


class _Value:
    """One typed setting as an attribute of AppSettings: read with its default, written as ``kind``;
    clamp: (low, high) bounds applied on reading."""

    def __init__(self, key: str, default: object, kind: type, doc: str = "",
                 clamp: tuple[float, float] | None = None) -> None:
        self.key, self.default, self.kind, self.clamp = key, default, kind, clamp
        self.__doc__ = doc

    def __get__(self, settings: "AppSettings | None", owner: type) -> object:
        if settings is None:
            return self
        value = read_value(settings.q, self.key, self.default, self.kind)
        if self.clamp is not None:
            value = min(self.clamp[1], max(self.clamp[0], value))
        return value

    def __set__(self, settings: "AppSettings", value: object) -> None:
        settings.q.setValue(self.key, self.kind(value))


class AppSettings:
    """Typed view of Masklet's QSettings (organisation and application "Masklet")."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Masklet", "Masklet")

    # -- overlay, tools, caches (typed values, see _Value) ----------------------------------
    opacity = _Value("view/opacity", 0.45, float, "Mask fill opacity, 0..1.", clamp=(0.0, 1.0))
    outline = _Value("view/outline", True, bool)
    brush_size = _Value("tools/brush_size", 20, int, "Brush diameter in image pixels.")
    frame_cache_mb = _Value("cache/frames_mb", 512, int)
    feature_cache_frames = _Value("cache/feature_frames", 16, int, "How many frames' image features the engine keeps.")
    # the one "suspect" rule (annotator.suspect): the timeline's colours and J
    suspect_low_iou = _Value("suspect/low_iou", SuspectThresholds.low_iou, float,
                             "Predicted IoU below this is suspect.", clamp=(0.0, 0.99))
    suspect_good_iou = _Value("suspect/good_iou", SuspectThresholds.good_iou, float,
                              "Predicted IoU at or above this is shown fully green.", clamp=(0.01, 1.0))
    suspect_area_jump = _Value("suspect/area_jump", SuspectThresholds.area_jump, float,
                               "An area change by more than this factor between frames is suspect.", clamp=(1.05, 100.0))

    def suspect_thresholds(self) -> SuspectThresholds:
        """The saved thresholds; the defaults where the saved ones contradict each other."""
        try:
            return SuspectThresholds(self.suspect_low_iou, self.suspect_good_iou, self.suspect_area_jump)
        except ValueError:
            return SuspectThresholds()

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
        if int(read_value(self.q, "window/layout_version", 0, int)) != LAYOUT_VERSION:
            return None
        geometry, state = self.q.value("window/geometry"), self.q.value("window/state")
        if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
            return None
        return geometry, state

    def sync(self) -> None:
        self.q.sync()
