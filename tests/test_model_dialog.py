"""The Model dialog, headless: catalogue, background download with progress and cancel, local files, choice."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from annotator.checkpoint_settings import CheckpointSettings
from core.checkpoints.catalogue import CATALOGUE, default_entry, find
from core.checkpoints.paths import checkpoint_path, partial_path
from core.checkpoints.runtime import DeviceChoice, ModelSelection, PrecisionChoice
from ui.catalogue_table import COLUMNS
from ui.model_dialog import ModelDialog

from .test_download_helpers import (  # noqa: F401 - fixtures
    Behaviour,
    CheckpointServer,
    clean_cache,
    closed_port,
    custom_checkpoint,
    files_dir,
    offline_by_default,
    official_checkpoint,
    server,
)

pytestmark = pytest.mark.gui
TINY = default_entry()
STATUS = COLUMNS.index("Status")
WAIT_MS = 60_000


def make_dialog(qtbot: QtBot) -> ModelDialog:
    dialog = ModelDialog(None, QSettings())
    qtbot.addWidget(dialog)
    return dialog


def row_of(name: str) -> int:
    return [e.name for e in CATALOGUE].index(name)


def test_lists_the_catalogue_with_the_default_selected(qtbot: QtBot, clean_cache: Path) -> None:
    dialog = make_dialog(qtbot)
    assert dialog.table.rowCount() == len(CATALOGUE)
    assert dialog.table.item(0, 0).text() == "SAM 2.1 tiny (recommended)"
    assert dialog.table.item(row_of("sam2_hiera_base_plus"), 0).text() == "SAM 2.0 base+"
    assert {dialog.table.item(r, STATUS).text() for r in range(len(CATALOGUE))} == {"Not downloaded"}
    assert dialog.selected_entry() is TINY
    assert dialog.download_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()  # nothing to use yet
    assert dialog.device_combo.currentData() == "auto" and dialog.precision_combo.currentData() == "auto"


@pytest.mark.slow
def test_download_in_the_background_then_use_it(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, server: CheckpointServer, files_dir: Path, clean_cache: Path
) -> None:
    source = official_checkpoint(files_dir)
    server.routes[TINY.file_name] = Behaviour(file=source, pace_s=0.0005)
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", server.base_url)
    dialog = make_dialog(qtbot)
    messages: list[str] = []
    dialog.download_button.click()
    assert dialog.is_busy and dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
    assert dialog.table.item(0, STATUS).text() == "Downloading…"
    dialog._download.progress.connect(lambda p: messages.append(p.message))  # noqa: SLF001 - watching the job
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    assert dialog.error_label.text() == ""
    assert dialog.progress_label.text() == "SAM 2.1 tiny downloaded and checked."
    assert any(" MB/s" in m and " left" in m for m in messages)
    assert dialog.table.item(0, STATUS).text() == "Downloaded"
    assert filecmp.cmp(checkpoint_path(TINY), source, shallow=False)
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.precision_combo.setCurrentIndex(dialog.precision_combo.findData("bf16"))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.result() == ModelDialog.DialogCode.Accepted
    expected = ModelSelection(checkpoint_path(TINY), DeviceChoice.CPU, PrecisionChoice.BF16, False)
    assert dialog.selection == expected
    assert CheckpointSettings(QSettings()).selection() == expected  # saved
    again = make_dialog(qtbot)  # a new dialog shows the saved choice
    assert again.selected_entry() is TINY and again.chosen_path() == checkpoint_path(TINY)
    assert again.device_combo.currentData() == "cpu" and again.precision_combo.currentData() == "bf16"


@pytest.mark.slow
def test_cancel_keeps_the_part_for_later(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, server: CheckpointServer, files_dir: Path, clean_cache: Path
) -> None:
    entry = find("sam2_hiera_tiny")
    server.routes[entry.file_name] = Behaviour(file=official_checkpoint(files_dir), pace_s=0.01)
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", server.base_url)
    dialog = make_dialog(qtbot)
    dialog.table.selectRow(row_of(entry.name))
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    assert dialog.progress_label.text().startswith("Cancelled; the next download resumes")
    assert partial_path(checkpoint_path(entry)).stat().st_size > 0
    assert not checkpoint_path(entry).exists()
    assert dialog.table.item(row_of(entry.name), STATUS).text().startswith("Partial (")
    assert dialog.download_button.isEnabled()


def test_offline_shows_one_line_and_points_to_a_local_file(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, clean_cache: Path
) -> None:
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    dialog = make_dialog(qtbot)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    first, hint = dialog.error_label.text().split("\n")
    assert first.endswith("connection refused; check the connection, or use a local checkpoint file")
    assert "Use a local file" in hint
    assert "Traceback" not in dialog.error_label.text()
    assert dialog.table.item(0, STATUS).text() == "Not downloaded"


@pytest.mark.slow
def test_local_file_recognised_or_refused(qtbot: QtBot, files_dir: Path, tmp_path: Path, clean_cache: Path) -> None:
    dialog = make_dialog(qtbot)
    wrong = tmp_path / "notes.pt"
    wrong.write_text("not a model")
    dialog.use_local_file(wrong)
    assert not dialog.local_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    assert dialog.error_label.text().startswith("not a usable SAM 2 checkpoint: notes.pt: not a PyTorch checkpoint")
    assert dialog.chosen_path() is None
    good = official_checkpoint(files_dir)
    dialog.use_local_file(good)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT_MS)
    assert dialog.error_label.text() == ""
    assert dialog.local_label.text() == f"{good.name}: SAM 2.1 tiny, 39.0 M parameters, 156.0 MB"
    assert dialog.chosen_path() == good and dialog.selected_entry() is None
    dialog.compile_box.setChecked(True)
    dialog.accept()
    assert dialog.selection == ModelSelection(good, DeviceChoice.AUTO, PrecisionChoice.AUTO, True)
    reopened = make_dialog(qtbot)  # the saved local file is checked again and shown
    qtbot.waitUntil(lambda: not reopened.is_busy, timeout=WAIT_MS)
    assert reopened.chosen_path() == good and reopened.compile_box.isChecked()


@pytest.mark.slow
def test_closing_during_a_download_stops_it(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, server: CheckpointServer, files_dir: Path, clean_cache: Path
) -> None:
    server.routes[TINY.file_name] = Behaviour(file=official_checkpoint(files_dir), pace_s=0.01)
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", server.base_url)
    dialog = make_dialog(qtbot)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    job = dialog._download  # noqa: SLF001 - checking the thread ended
    dialog.reject()
    assert job is not None and job.isFinished()
    assert dialog.selection is None
    assert partial_path(checkpoint_path(TINY)).is_file() and not checkpoint_path(TINY).exists()


def test_settings_fall_back_to_the_downloaded_default(clean_cache: Path) -> None:
    settings = CheckpointSettings(QSettings())
    assert settings.selection() is None
    settings.save(ModelSelection(clean_cache / "gone.pt", DeviceChoice.MPS))
    assert settings.selection() is None  # the saved file is gone and the default is not downloaded
    checkpoint_path(TINY).parent.mkdir(parents=True, exist_ok=True)
    checkpoint_path(TINY).write_bytes(b"verified on arrival")
    assert settings.selection() == ModelSelection(checkpoint_path(TINY), DeviceChoice.MPS)
