"""Autosave beside the project, recovery when it is newer, the schedule the window's timer drives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from annotator.autosave import (AutosaveSchedule, autosave, autosave_path, discard_autosave, recover,
                                recovery_available)
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import load_project, save_project
from core.masks import encode


def doc_with(frames: int) -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("/v/clip.mp4", 16, 12, 100, 30.0, "sha256:1"))
    obj = doc.add_object("thing")
    for frame in range(frames):
        m = np.zeros((12, 16), bool)
        m[2:6, frame % 10:frame % 10 + 4] = True
        doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROPAGATED))
    return doc


def set_mtime(path: Path, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_autosave_is_a_sibling_and_recovery_needs_it_newer(tmp_path: Path) -> None:
    project = tmp_path / "work.masklet"
    assert autosave_path(project) == tmp_path / "work.masklet.autosave"
    save_project(doc_with(2), project)
    assert not recovery_available(project)
    written = autosave(doc_with(5), project)
    assert written == autosave_path(project)
    set_mtime(project, 1_000)
    set_mtime(written, 2_000)
    assert recovery_available(project)
    assert load_project(project).document.mask_count() == 2  # the project itself is untouched
    recovered = recover(project)
    assert recovered.document.mask_count() == 5 and recovered.video_missing
    set_mtime(written, 500)  # an autosave older than the project is stale
    assert not recovery_available(project)


def test_saving_removes_the_autosave(tmp_path: Path) -> None:
    project = tmp_path / "work.masklet"
    autosave(doc_with(3), project)
    assert recovery_available(project)  # never saved as a project: anything autosaved is worth offering
    save_project(doc_with(3), project)
    assert not autosave_path(project).exists() and not recovery_available(project)


def test_declining_recovery_discards_it(tmp_path: Path) -> None:
    project = tmp_path / "work.masklet"
    save_project(doc_with(1), project)
    autosave(doc_with(4), project)
    discard_autosave(project)
    discard_autosave(project)  # twice is fine
    assert not recovery_available(project)


def test_schedule_autosaves_only_when_due_and_dirty(tmp_path: Path) -> None:
    now = [100.0]
    schedule = AutosaveSchedule(interval_s=30, clock=lambda: now[0])
    project = tmp_path / "p.masklet"
    doc = doc_with(2)
    assert schedule.tick(doc, project, dirty=True) is None  # not due yet
    now[0] += 31
    assert schedule.tick(doc, project, dirty=False) is None  # nothing changed
    assert schedule.tick(doc, None, dirty=True) is None  # no project path yet
    assert schedule.tick(doc, project, dirty=True) == autosave_path(project)
    assert recover(project).document.mask_count() == 2
    assert schedule.tick(doc, project, dirty=True) is None  # the interval restarts
    now[0] += 30
    schedule.reset()  # a manual save
    assert not schedule.due()
    with pytest.raises(ValueError, match="positive"):
        AutosaveSchedule(interval_s=0)


def test_a_failed_autosave_is_reported_not_raised(tmp_path: Path) -> None:
    now = [0.0]
    schedule = AutosaveSchedule(interval_s=1, clock=lambda: now[0])
    now[0] = 5
    assert schedule.tick(doc_with(1), tmp_path / "missing" / "p.masklet", dirty=True) is None
    assert "does not exist" in (schedule.last_error or "")
    now[0] = 10
    assert schedule.tick(doc_with(1), tmp_path / "p.masklet", dirty=True) is not None
    assert schedule.last_error is None


def test_a_damaged_autosave_is_one_error(tmp_path: Path) -> None:
    from annotator.project import ProjectError

    project = tmp_path / "p.masklet"
    autosave_path(project).write_bytes(b"\x1f\x8b garbage")
    assert recovery_available(project)
    with pytest.raises(ProjectError, match="truncated or damaged"):
        recover(project)
    assert autosave_path(project).read_bytes() == b"\x1f\x8b garbage"
