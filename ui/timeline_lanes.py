"""The timeline's lanes as data: per object its frame table (annotator.frame_table), its run-length
summary (annotator.lane_runs, made again only after the lane changed) and the two images last
painted for it (made again only when the lane or the view changed)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from annotator.document import AnnotationDocument, ObjectRecord
from annotator.frame_table import FrameTable
from annotator.lane_runs import LaneRuns, stack_columns, summarize, view_columns
from annotator.suspect import SuspectThresholds
from ui.timeline_paint import LaneImages, lane_images
from ui.timeline_zoom import TimelineView


class LaneStore:
    def __init__(self) -> None:
        self.tables: dict[int, FrameTable] = {}
        self.thresholds = SuspectThresholds()
        self._runs: dict[int, LaneRuns] = {}
        self._columns: dict[int, tuple] = {}  # obj_id -> (its runs, the view, Columns) last painted
        self._images: tuple | None = None  # (the view and lanes, LaneImages) last painted

    def rebuild(self, doc: AnnotationDocument, obj_ids: list[int], n: int) -> None:
        """Every lane again (a new document or video) over ``n`` frames."""
        self.tables = {o: FrameTable.of(doc, o, n) for o in obj_ids}
        self._runs, self._columns, self._images = {}, {}, None

    def sync_objects(self, doc: AnnotationDocument, obj_ids: list[int], n: int) -> None:
        """Lanes for new objects, none for deleted ones; the others are kept (a rename, a note)."""
        self.tables = {o: self.tables[o] if o in self.tables else FrameTable.of(doc, o, n) for o in obj_ids}
        self._runs = {o: r for o, r in self._runs.items() if o in self.tables}
        self._columns = {o: c for o, c in self._columns.items() if o in self.tables}

    def update(self, doc: AnnotationDocument, obj_id: int, frames: list[int]) -> bool:
        """Recompute ``frames`` of a lane; False when the object has no lane (yet)."""
        table = self.tables.get(obj_id)
        if table is None:
            return False
        table.update(doc, obj_id, frames)
        self._runs.pop(obj_id, None)
        return True

    def runs(self, obj_id: int) -> LaneRuns:
        runs = self._runs.get(obj_id)
        if runs is None:
            runs = self._runs[obj_id] = summarize(self.tables[obj_id], self.thresholds)
        return runs

    def set_thresholds(self, thresholds: SuspectThresholds) -> bool:
        """The suspect rule's thresholds; True when they changed (every summary is made again)."""
        if thresholds == self.thresholds:
            return False
        self.thresholds, self._runs = thresholds, {}
        return True

    def images(self, records: list[ObjectRecord], view: TimelineView, width: int, background: QColor) -> LaneImages:
        """The bodies and marks images of the lanes of ``records`` (in that order) for ``view``. A
        lane's columns are made again only when it or the view changed, the images when any did;
        the playhead moving, a selection or a note repaint from the cache."""
        key = (view.first, view.px_per_frame, width)
        columns, changed = [], False
        for record in records:
            runs = self.runs(record.obj_id)
            cached = self._columns.get(record.obj_id)
            if cached is None or cached[0] is not runs or cached[1] != key:
                cached = self._columns[record.obj_id] = (runs, key, view_columns(runs, view.first, view.frames_per_px,
                                                                                  width))
                changed = True
            columns.append(cached[2])
        image_key = (key, tuple(r.obj_id for r in records), tuple(r.color for r in records))
        if changed or self._images is None or self._images[0] != image_key:
            self._images = (image_key, lane_images(stack_columns(columns), [r.color for r in records], background))
        return self._images[1]
