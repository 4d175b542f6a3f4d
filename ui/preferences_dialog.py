"""Edit > Preferences: mask opacity and outline, brush size, the cache sizes, and the thresholds of
the one "suspect" rule (annotator.suspect: the timeline's red and `J`), kept in the settings.

Cache sizes apply to the next video opened (the frame cache and the engine's feature cache are
sized when a video opens); the look applies at once.
"""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QMessageBox,
                               QSlider, QSpinBox, QWidget)
from PySide6.QtCore import Qt

from ui.settings import AppSettings


class PreferencesDialog(QDialog):
    def __init__(self, settings: AppSettings, opacity: float, outline: bool, brush_size: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(opacity * 100))
        self.outline = QCheckBox("Draw an outline around each mask")
        self.outline.setChecked(outline)
        self.brush = QSpinBox()
        self.brush.setRange(1, 400)
        self.brush.setSuffix(" px")
        self.brush.setValue(brush_size)
        self.frame_cache = QSpinBox()
        self.frame_cache.setRange(0, 65536)
        self.frame_cache.setSingleStep(128)
        self.frame_cache.setSuffix(" MB")
        self.frame_cache.setValue(settings.frame_cache_mb)
        self.feature_cache = QSpinBox()
        self.feature_cache.setRange(1, 512)
        self.feature_cache.setSuffix(" frames")
        self.feature_cache.setValue(settings.feature_cache_frames)
        suspect = settings.suspect_thresholds()
        self.low_iou = self._number(suspect.low_iou, 0.0, 0.99, 0.05, "")
        self.good_iou = self._number(suspect.good_iou, 0.01, 1.0, 0.05, "")
        self.area_jump = self._number(suspect.area_jump, 1.05, 100.0, 0.25, " ×")
        form = QFormLayout(self)
        form.addRow("Mask opacity", self.opacity)
        form.addRow("", self.outline)
        form.addRow("Brush size", self.brush)
        form.addRow("Decoded frame cache", self.frame_cache)
        form.addRow("Image feature cache", self.feature_cache)
        form.addRow(QLabel("Cache sizes apply to the next video you open."))
        form.addRow(QLabel("<b>Suspect frames</b> (red on the timeline; J and Shift+J visit them)"))
        form.addRow("Suspect below predicted IoU", self.low_iou)
        form.addRow("Fully green from predicted IoU", self.good_iou)
        form.addRow("Suspect area change between frames", self.area_jump)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @staticmethod
    def _number(value: float, low: float, high: float, step: float, suffix: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setDecimals(2)
        box.setSingleStep(step)
        box.setSuffix(suffix)
        box.setValue(value)
        return box

    def accept(self) -> None:
        if self.low_iou.value() >= self.good_iou.value():
            QMessageBox.warning(self, "Preferences", "The suspect IoU must be below the fully-green IoU.")
            return
        s = self.settings
        s.suspect_low_iou, s.suspect_good_iou = self.low_iou.value(), self.good_iou.value()
        s.suspect_area_jump = self.area_jump.value()
        s.opacity, s.outline, s.brush_size = self.opacity.value() / 100, self.outline.isChecked(), self.brush.value()
        s.frame_cache_mb, s.feature_cache_frames = self.frame_cache.value(), self.feature_cache.value()
        s.sync()
        super().accept()
