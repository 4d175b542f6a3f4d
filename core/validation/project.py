"""The project file's content checked field by field before a document is built from it.

``check_project(data)`` takes the parsed JSON after the schema migrations (schema 3, see
annotator/project_schema.py) and refuses, with one line ``FIELD: PROBLEM``, anything the
reader would otherwise trust: types (``locked`` must be true or false, ids whole numbers),
ranges (frames inside the video, sizes that of the video, finite scores), sizes (frame
count, picture size, counts strings), duplicates (object ids, a mask or a prompt twice on one
frame), nesting. ``check_raw(data)`` runs before the migrations: the version and the layout
that version has.
"""

from __future__ import annotations

from core.validation.bounds import (
    MAX_COORDINATE, MAX_OBJECTS, MAX_POINTS, Invalid, all_finite, boolean, depth_at_most, fps, frame_count,
    frame_size, integer, is_int, mapping, no_duplicates, number, optional_number, sequence, text,
)
from core.validation.rle import check_rle_fields

MASK_SOURCES = ("prompted", "propagated", "edited", "imported")
MAX_ID = 2**31 - 1
MAX_MASKS_PER_OBJECT = 10**7


def check_raw(data: dict) -> None:
    """Before the migrations: a version whose layout the file has (schema 1 kept masks at the top)."""
    version = data.get("schema_version")
    objects = data.get("objects")
    if version == 1 and isinstance(objects, list):
        if any(isinstance(o, dict) and "masks" in o for o in objects):
            raise Invalid("schema_version: 1, but its objects carry masks as schema 2 and later do")
    if is_int(version) and version >= 2 and "masks" in data:
        raise Invalid(f"schema_version: {version}, but it has a top-level masks map as schema 1 did")
    for key in ("metadata", "labels"):  # the free-form parts; the schema's own are a few levels deep
        if data.get(key) is not None:
            depth_at_most(data[key], key)


def _video(data: object) -> tuple[int, int, int] | None:
    """(width, height, frame_count) of the video entry, or None when there is none."""
    if data is None:
        return None
    v = mapping(data, "video")
    text(v.get("path", ""), "video.path")
    if v.get("relative_path") is not None:
        text(v["relative_path"], "video.relative_path")
    width, height = frame_size(v.get("width"), v.get("height"), "video")
    count = frame_count(v.get("frame_count"), "video.frame_count")
    fps(v.get("fps"), "video.fps")
    if v.get("fingerprint") is not None:
        text(v["fingerprint"], "video.fingerprint", 200)
    return width, height, count


def _frame(value: object, field: str, video: tuple[int, int, int] | None) -> int:
    last = video[2] - 1 if video is not None else MAX_FRAMES_INDEX
    if video is not None and video[2] == 0:
        raise Invalid(f"{field}: the video has no frames")
    return integer(value, field, 0, last)


MAX_FRAMES_INDEX = 10**7 - 1


def _mask(m: object, field: str, video: tuple[int, int, int] | None) -> int:
    m = mapping(m, field)
    frame = _frame(m.get("frame"), f"{field}.frame", video)
    height, width, _ = check_rle_fields(m.get("size"), m.get("counts"), field)
    if video is not None and (height, width) != (video[1], video[0]):
        raise Invalid(f"{field}.size: {height}x{width}, but the video is {video[1]}x{video[0]}")
    if m.get("source") not in MASK_SOURCES:
        raise Invalid(f"{field}.source: {m.get('source')!r:.40} is not one of {', '.join(MASK_SOURCES)}")
    boolean(m.get("locked"), f"{field}.locked")
    if "reviewed" in m:
        boolean(m["reviewed"], f"{field}.reviewed")
    optional_number(m.get("object_score"), f"{field}.object_score")
    optional_number(m.get("iou"), f"{field}.iou", -1.0, 2.0)
    return frame


def _point_list(value: object, field: str) -> int:
    points = sequence(value, field, MAX_POINTS)
    for j, p in enumerate(points):
        if not isinstance(p, list) or len(p) != 2:
            raise Invalid(f"{field}[{j}]: must be [x, y]")
        number(p[0], f"{field}[{j}][0]", -MAX_COORDINATE, MAX_COORDINATE)
        number(p[1], f"{field}[{j}][1]", -MAX_COORDINATE, MAX_COORDINATE)
    return len(points)


def _prompt(p: object, field: str, video: tuple[int, int, int] | None) -> int:
    p = mapping(p, field)
    frame = _frame(p.get("frame"), f"{field}.frame", video)
    count = _point_list(p.get("points") or [], f"{field}.points")
    labels = sequence(p.get("labels") or [], f"{field}.labels", MAX_POINTS)
    for j, label in enumerate(labels):
        integer(label, f"{field}.labels[{j}]", 0, 3)
    if len(labels) != count:
        raise Invalid(f"{field}: {count} points but {len(labels)} labels")
    box = p.get("box")
    if box is not None:
        corners = sequence(box, f"{field}.box", 4)
        if len(corners) != 4:
            raise Invalid(f"{field}.box: must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (number(c, f"{field}.box[{j}]", -MAX_COORDINATE, MAX_COORDINATE) for j, c in enumerate(corners))
        if x1 < x0 or y1 < y0:
            raise Invalid(f"{field}.box: [{x0:g}, {y0:g}, {x1:g}, {y1:g}] is inverted (x1 < x0 or y1 < y0)")
    return frame


def _object(obj: object, field: str, video: tuple[int, int, int] | None) -> int:
    obj = mapping(obj, field)
    obj_id = integer(obj.get("id"), f"{field}.id", 1, MAX_ID)
    field = f"{field} (id {obj_id})"
    text(obj.get("name"), f"{field}.name")
    text(obj.get("category"), f"{field}.category")
    color = sequence(obj.get("color"), f"{field}.color", 3)
    if len(color) != 3:
        raise Invalid(f"{field}.color: must be [r, g, b]")
    for j, c in enumerate(color):
        integer(c, f"{field}.color[{j}]", 0, 255)
    for key in ("attributes", "frame_attributes"):
        if obj.get(key) is not None:
            mapping(obj[key], f"{field}.{key}")
            depth_at_most(obj[key], f"{field}.{key}")
            all_finite(obj[key], f"{field}.{key}")
    masks = sequence(obj.get("masks", []), f"{field}.masks", MAX_MASKS_PER_OBJECT)
    frames = [_mask(m, f"{field}.masks[{j}]", video) for j, m in enumerate(masks)]
    no_duplicates(frames, f"{field}.masks", "frame")
    prompts = sequence(obj.get("prompts") or [], f"{field}.prompts", MAX_MASKS_PER_OBJECT)
    frames = [_prompt(p, f"{field}.prompts[{j}]", video) for j, p in enumerate(prompts)]
    no_duplicates(frames, f"{field}.prompts", "frame")
    return obj_id


def check_project(data: dict) -> None:
    """Every field of a (migrated, schema-3) project; raises Invalid naming the first problem."""
    video = _video(data.get("video"))
    if data.get("metadata") is not None:
        mapping(data["metadata"], "metadata")
        all_finite(data["metadata"], "metadata")
    objects = sequence(data.get("objects"), "objects", MAX_OBJECTS)
    if video is None and any(isinstance(o, dict) and (o.get("masks") or o.get("prompts")) for o in objects):
        raise Invalid("video: null, but the project has masks or prompts (they need the video's size and length)")
    ids = [_object(obj, f"objects[{i}]", video) for i, obj in enumerate(objects)]
    no_duplicates(ids, "objects", "id")
