"""Track fixes without Qt: merge, split and swap move masks, prompts and frame attributes exactly,
undo exactly, and give the engine the document's key masks."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef
from annotator.track_ops import TrackOpError, apply_edit, key_inputs, merge, split, swap
from core.masks import encode
from core.types import Prompt
from core.video.inputs import MaskInput, RemoveInput

H, W = 12, 16


def _entry(x: int, source: MaskSource = MaskSource.PROPAGATED) -> MaskEntry:
    m = np.zeros((H, W), bool)
    m[2:6, x:x + 3] = True
    return MaskEntry(encode(m), source)


def _doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("v.mp4", W, H, 10, 10.0))
    doc.put_object(ObjectRecord(1, "a", frame_attributes={1: {"occluded": True}, 6: {"occluded": False}}))
    doc.put_object(ObjectRecord(2, "b"))
    for f in range(0, 5):
        doc.set_mask(1, f, _entry(1, MaskSource.PROMPTED if f == 0 else MaskSource.PROPAGATED))
    for f in range(3, 8):
        doc.set_mask(2, f, _entry(8, MaskSource.EDITED if f == 6 else MaskSource.PROPAGATED))
    doc.set_prompt(1, 0, Prompt(0, 1, np.array([[2, 3]], np.float32), np.array([1], np.int32)))
    return doc


def _state(doc: AnnotationDocument):
    return ({o: dict(m) for o, m in doc.masks.items() if o in doc.objects},
            {o: dict(p) for o, p in doc.prompts.items() if o in doc.objects}, dict(doc.objects), list(doc.inputs))


@pytest.mark.parametrize("prefer", [1, 2])
def test_merge_keeps_the_preferred_mask_where_both_have_one(prefer: int) -> None:
    doc = _doc()
    before = _state(doc)
    edit = merge(doc, 1, 2, prefer)
    apply_edit(doc, edit)
    assert 2 not in doc.objects and sorted(doc.masks[1]) == list(range(8))
    for f in (3, 4):
        assert doc.masks[1][f] is before[0][prefer][f]
    assert doc.masks[1][7] is before[0][2][7] and doc.masks[1][0] is before[0][1][0]
    assert doc.prompts[1][0].obj_id == 1
    # the engine forgets both and is given the merged track's prompted and edited frames
    assert [(type(i), i.obj_id, getattr(i, "frame", None)) for i in edit.inputs] == [
        (RemoveInput, 1, None), (MaskInput, 1, 0), (MaskInput, 1, 6), (RemoveInput, 2, None)]
    apply_edit(doc, edit, forward=False)
    assert _state(doc) == before


def test_split_moves_the_later_frames_to_a_new_object() -> None:
    doc = _doc()
    before = _state(doc)
    edit = split(doc, 1, 2)
    apply_edit(doc, edit)
    assert sorted(doc.masks[1]) == [0, 1] and sorted(doc.masks[3]) == [2, 3, 4]
    assert doc.objects[3].name == "a (from 2)" and doc.objects[1].frame_attributes == {1: {"occluded": True}}
    assert doc.objects[3].frame_attributes == {6: {"occluded": False}}
    # the new track has no prompted frame: SAM 2 gets its first mask to propagate from
    assert [(type(i), i.obj_id, getattr(i, "frame", None)) for i in edit.inputs] == [
        (RemoveInput, 1, None), (MaskInput, 1, 0), (RemoveInput, 3, None), (MaskInput, 3, 2)]
    apply_edit(doc, edit, forward=False)
    assert _state(doc) == before
    with pytest.raises(TrackOpError, match="before it and from it on"):
        split(doc, 1, 0)


def test_swap_exchanges_the_tracks_from_a_frame_on() -> None:
    doc = _doc()
    before = _state(doc)
    edit = swap(doc, 1, 2, 4)
    apply_edit(doc, edit)
    assert sorted(doc.masks[1]) == [0, 1, 2, 3, 4, 5, 6, 7] and sorted(doc.masks[2]) == [3, 4]
    assert doc.masks[1][6] is before[0][2][6] and doc.masks[2][4] is before[0][1][4]
    assert doc.objects[2].frame_attributes == {6: {"occluded": False}} and 6 not in doc.objects[1].frame_attributes
    apply_edit(doc, edit, forward=False)
    assert _state(doc) == before
    with pytest.raises(TrackOpError, match="different"):
        swap(doc, 1, 1, 0)


def test_key_inputs_skip_empty_masks() -> None:
    empty = MaskEntry(encode(np.zeros((H, W), bool)), MaskSource.PROMPTED)
    inputs = key_inputs(5, {0: empty, 2: _entry(1), 4: _entry(2)})
    assert [(i.obj_id, i.frame) for i in inputs] == [(5, 2)]
