"""Undo commands: deltas only (a stroke keeps its bounding box), exact undo and redo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from annotator.commands import (
    AddObjectCommand, EditObjectCommand, LockCommand, MaskPatch, PropagationCommand, RemoveObjectCommand,
    SetFrameCommand, StrokeCommand,
)
from annotator.observed_document import ObservedDocument
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef, inputs_from_content
from core.masks import encode
from core.types import Direction, Prompt
from core.video.inputs import PromptInput, TrackInput
from core.video.legs import Leg

H, W = 60, 80


def _doc() -> ObservedDocument:
    doc = AnnotationDocument(VideoRef("v.mp4", W, H, 10, 10.0))
    doc.add_object("cat")
    return ObservedDocument(doc)


def _rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_stroke_stores_only_its_bounding_box_and_undoes_exactly() -> None:
    doc, stack = _doc(), QUndoStack()
    before = _rect(10, 30, 10, 30)
    doc.set_mask(1, 2, MaskEntry(encode(before), MaskSource.PROPAGATED, object_score=3.0, iou=0.8))
    after = before.copy()
    after[25:35, 28:40] = True  # brush
    after[12:14, 12:14] = False  # and a little erase in the same stroke
    patch = MaskPatch.between(before, after)
    assert (patch.y0, patch.x0, patch.old.shape) == (12, 12, (35 - 12, 40 - 12))
    stack.push(StrokeCommand(doc, 1, 2, patch, H, W, erase=False))
    entry = doc.mask(1, 2)
    assert entry.source is MaskSource.EDITED and np.array_equal(entry.rle.decode(), after)
    stack.undo()
    entry = doc.mask(1, 2)
    assert np.array_equal(entry.rle.decode(), before)
    assert (entry.source, entry.object_score, entry.iou) == (MaskSource.PROPAGATED, 3.0, 0.8)
    stack.redo()
    assert np.array_equal(doc.mask_array(1, 2), after)


def test_stroke_on_a_frame_without_mask_removes_the_entry_on_undo() -> None:
    doc, stack = _doc(), QUndoStack()
    after = _rect(5, 9, 5, 9)
    stack.push(StrokeCommand(doc, 1, 0, MaskPatch.between(np.zeros((H, W), bool), after), H, W, erase=False))
    assert doc.mask(1, 0).rle.area == 16
    stack.undo()
    assert doc.mask(1, 0) is None


def test_identical_masks_give_no_patch() -> None:
    assert MaskPatch.between(_rect(1, 2, 1, 2), _rect(1, 2, 1, 2)) is None


def test_already_applied_commands_skip_their_first_redo() -> None:
    doc, stack = _doc(), QUndoStack()
    prompt = Prompt(4, 1, box=np.array([1, 1, 5, 5], np.float32))
    new = MaskEntry(encode(_rect(1, 5, 1, 5)), MaskSource.PROMPTED, object_score=1.0, iou=0.9)
    cmd = SetFrameCommand(doc, 1, 4, prompt, new, "Box")
    stack.push(cmd)
    assert doc.prompt(1, 4) is prompt and doc.mask(1, 4) == new
    stack.undo()
    assert doc.prompt(1, 4) is None and doc.mask(1, 4) is None

    old = {(1, f): doc.mask(1, f) for f in range(3)}
    changes = {}
    for f in range(3):
        entry = MaskEntry(encode(_rect(f, f + 2, 0, 4)), MaskSource.PROPAGATED, object_score=1.0, iou=0.5)
        doc.set_mask(1, f, entry)
        changes[(1, f)] = (old[(1, f)], entry)
    run = TrackInput((Leg(0, Direction.FORWARD),), (1,), frozenset(), (3,))
    stack.push(PropagationCommand(doc, changes, "Propagate", run))
    assert doc.document.inputs == [run]
    assert doc.mask(1, 2).rle.area == 8  # the push did not re-apply or double anything
    stack.undo()
    assert all(doc.mask(1, f) is None for f in range(3))
    stack.redo()
    assert [doc.mask(1, f).rle.area for f in range(3)] == [8, 8, 8]


def test_object_commands_round_trip() -> None:
    doc, stack = _doc(), QUndoStack()
    changed: list[int] = []
    doc.objectsChanged.connect(lambda: changed.append(1))
    record = ObjectRecord(2, "dog", "animal", (1, 2, 3))
    stack.push(AddObjectCommand(doc, record))
    doc.set_mask(2, 0, MaskEntry(encode(_rect(0, 3, 0, 3)), MaskSource.EDITED))
    stack.push(EditObjectCommand(doc, 2, name="puppy", color=(9, 9, 9)))
    assert doc.object(2).name == "puppy"
    stack.push(RemoveObjectCommand(doc, 2))
    assert not doc.has_object(2)
    stack.undo()
    assert doc.object(2).name == "puppy" and doc.mask(2, 0).rle.area == 9
    stack.undo()
    assert doc.object(2) == record
    stack.undo()
    assert not doc.has_object(2)
    assert len(changed) >= 4


def test_lock_only_touches_frames_with_masks() -> None:
    doc, stack = _doc(), QUndoStack()
    doc.set_mask(1, 3, MaskEntry(encode(_rect(0, 3, 0, 3)), MaskSource.PROPAGATED))
    stack.push(LockCommand(doc, 1, [2, 3], True))
    assert doc.document.locked_frames(1) == {3}
    stack.undo()
    assert doc.document.locked_frames(1) == set()


def test_inputs_from_content_give_each_frames_prompt_then_its_edit() -> None:
    doc = _doc()
    p = Prompt(1, 1, box=np.array([0, 0, 3, 3], np.float32))
    doc.set_prompt(1, 1, p)
    doc.set_prompt(1, 2, Prompt(2, 1, box=np.array([0, 0, 3, 3], np.float32)))
    doc.set_mask(1, 2, MaskEntry(encode(_rect(0, 2, 0, 2)), MaskSource.EDITED))
    doc.set_mask(1, 3, MaskEntry(encode(_rect(0, 2, 0, 2)), MaskSource.PROPAGATED))
    log = inputs_from_content(doc.document)
    assert [type(i).__name__ for i in log] == ["PromptInput", "PromptInput", "MaskInput"]
    assert log[0].prompt is p and (log[2].frame, log[2].rle) == (2, encode(_rect(0, 2, 0, 2)))


def test_every_engine_command_adds_its_input_on_redo_and_takes_it_back_on_undo() -> None:
    doc, stack = _doc(), QUndoStack()
    click = PromptInput(Prompt(0, 1, np.array([[1, 1]], np.float32), np.array([1], np.int32)))
    stack.push(SetFrameCommand(doc, 1, 0, click.prompt, None, "Click", item=click))
    stack.push(StrokeCommand(doc, 1, 2, MaskPatch.between(np.zeros((H, W), bool), _rect(0, 2, 0, 2)), H, W, erase=False))
    stack.push(SetFrameCommand(doc, 1, 0, None, None, "Clear frame"))
    stack.push(RemoveObjectCommand(doc, 1))
    log = list(doc.document.inputs)
    assert log[0] is click and [type(i).__name__ for i in log] == ["PromptInput", "MaskInput", "ClearInput", "RemoveInput"]
    assert log[1].rle == encode(_rect(0, 2, 0, 2))
    for n in (3, 2, 1, 0):
        stack.undo()
        assert doc.document.inputs == log[:n]
    for n in (1, 2, 3, 4):
        stack.redo()
        assert doc.document.inputs == log[:n] and all(a is b for a, b in zip(doc.document.inputs, log))
    with pytest.raises(RuntimeError):
        doc.pop_input(log[0])  # not the last one: undo out of order
