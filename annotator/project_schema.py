"""The project file's JSON schema: the document to and from plain JSON, and schema migrations.

Schema 3 (current)::

    {"format": "masklet-project", "schema_version": 3, "app_version": "...",
     "video": {"path", "relative_path", "width", "height", "frame_count", "fps", "fingerprint"} | null,
     "metadata": {...},
     "objects": [{"id", "name", "category", "color": [r, g, b], "attributes": {...},
                  "masks": [{"frame", "size": [h, w], "counts", "source", "locked", "object_score", "iou",
                             "reviewed"}],
                  "prompts": [{"frame", "points": [[x, y], ...], "labels": [...], "box": [x0, y0, x1, y1] | null}],
                  "notes": [{"frame", "text"}]}]}

Schema 2 had no ``reviewed`` per mask and no ``notes`` per object (review mode, issue 17;
annotator.review_schema migrates it).

Optional fields any schema may carry (issue 17; absent in older files, read as empty): a top-level
``"labels"`` (the label schema as annotator.labels writes it) and per object ``"frame_attributes":
{"<frame>": {name: value}}`` (per-frame attribute values).

Schema 1 (the first layout) kept masks in a top-level ``"masks": {obj_id: {frame: rle}}``
map with no provenance, and objects without attributes. ``MIGRATIONS[n]`` turns schema n
into n + 1; a file is migrated step by step up to ``SCHEMA_VERSION`` when it is read.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from annotator.labels import LabelError, LabelSchema
from annotator.document import AnnotationDocument, DocumentError, MaskEntry, MaskSource, ObjectRecord, VideoRef
from annotator.review_schema import notes_from_json, notes_to_json, reviewed_from_json, v2_to_v3
from core import __version__
from core.masks import Rle
from core.validation.bounds import Invalid
from core.validation.project import check_project, check_raw
from core.types import Prompt

FORMAT_TAG = "masklet-project"
SCHEMA_VERSION = 3


class ProjectError(ValueError):
    """A project file that cannot be read or written; the message is one line for the user."""


def _v1_to_v2(data: dict) -> dict:
    """Schema 1 -> 2: masks move into their objects and gain provenance (``imported``, unlocked)."""
    masks = data.pop("masks", {}) or {}
    for obj in data.get("objects", []):
        obj.setdefault("attributes", {})
        frames = masks.get(str(obj["id"]), {})
        obj["masks"] = [
            {"frame": int(frame), "size": rle["size"], "counts": rle["counts"], "source": MaskSource.IMPORTED.value,
             "locked": False, "object_score": None, "iou": None}
            for frame, rle in sorted(frames.items(), key=lambda kv: int(kv[0]))
        ]
        obj.setdefault("prompts", [])
    data.setdefault("metadata", {})
    data["schema_version"] = 2
    return data


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: v2_to_v3}


def migrate(data: dict) -> dict:
    """Bring a parsed project up to SCHEMA_VERSION, one registered step at a time."""
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectError("it has no integer schema_version")
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"it was saved by a newer Masklet (schema {version}; this version reads up to {SCHEMA_VERSION}); update Masklet"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectError(f"schema {version} is older than any Masklet can read")
        data = step(data)
        version = data["schema_version"]
    return data


# -- writing -----------------------------------------------------------------------------------
def _prompt_json(prompt: Prompt) -> dict:
    return {
        "frame": prompt.frame,
        "points": np.asarray(prompt.points, dtype=np.float64).reshape(-1, 2).tolist(),
        "labels": np.asarray(prompt.labels, dtype=np.int64).reshape(-1).tolist(),
        "box": None if prompt.box is None else np.asarray(prompt.box, dtype=np.float64).reshape(4).tolist(),
        **({"choice": int(prompt.choice)} if prompt.choice is not None else {}),  # optional (issue 17)
    }


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a score that is not a number is saved as unknown (null)."""
    return None if value is None or not math.isfinite(value) else float(value)


def _mask_json(frame: int, entry: MaskEntry) -> dict:
    return {
        "frame": frame, "size": [entry.rle.height, entry.rle.width], "counts": entry.rle.counts.decode("ascii"),
        "source": entry.source.value, "locked": entry.locked, "object_score": _finite(entry.object_score),
        "iou": _finite(entry.iou), "reviewed": entry.reviewed,
    }


def _relative(video_path: str, project_dir: Path | None) -> str | None:
    if not video_path or project_dir is None:
        return None
    try:
        return os.path.relpath(Path(video_path).absolute(), project_dir.absolute())
    except ValueError:  # another drive on Windows
        return None


def document_to_json(doc: AnnotationDocument, project_dir: Path | None = None) -> dict:
    """The schema-3 dict of a document; project_dir lets the video also be found relative to it."""
    video = None
    if doc.video is not None:
        v = doc.video
        video = {"path": v.path, "relative_path": _relative(v.path, project_dir), "width": v.width,
                 "height": v.height, "frame_count": v.frame_count, "fps": v.fps, "fingerprint": v.fingerprint}
    objects = []
    for obj_id in sorted(doc.objects):
        record = doc.objects[obj_id]
        masks = doc.masks.get(obj_id, {})
        prompts = doc.prompts.get(obj_id, {})
        objects.append({
            "id": obj_id, "name": record.name, "category": record.category, "color": list(record.color),
            "attributes": record.attributes,
            **({"frame_attributes": {str(f): v for f, v in sorted(record.frame_attributes.items())}}
               if record.frame_attributes else {}),
            "masks": [_mask_json(frame, masks[frame]) for frame in sorted(masks)],
            "prompts": [_prompt_json(prompts[frame]) for frame in sorted(prompts)],
            "notes": notes_to_json(record),
            **({"source": record.source} if record.source != "manual" else {}),  # optional (issue 20)
            **({"memory": record.memory} if record.memory != "sam2" else {}),  # optional (issue 18)
        })
    return {"format": FORMAT_TAG, "schema_version": SCHEMA_VERSION, "app_version": __version__,
            "video": video, "metadata": doc.metadata, "labels": doc.labels.to_json(), "objects": objects}


# -- reading -----------------------------------------------------------------------------------
def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _video(data: object) -> VideoRef | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ProjectError("its video entry is not an object")
    return VideoRef(path=str(data["path"]), width=int(data["width"]), height=int(data["height"]),
                    frame_count=int(data["frame_count"]), fps=float(data["fps"]),
                    fingerprint=str(data.get("fingerprint") or ""))


def _prompt(obj_id: int, data: dict) -> Prompt:
    points = np.asarray(data.get("points") or [], dtype=np.float32).reshape(-1, 2)
    labels = np.asarray(data.get("labels") or [], dtype=np.int32).reshape(-1)
    if len(points) != len(labels):
        raise ProjectError(f"object {obj_id} has a prompt with {len(points)} points and {len(labels)} labels")
    box = data.get("box")
    choice = data.get("choice")  # optional (issue 17): which of SAM 2's three masks was chosen
    if choice is not None and (not isinstance(choice, int) or isinstance(choice, bool) or not 0 <= choice <= 2):
        raise ProjectError(f"object {obj_id} has a prompt whose mask choice {choice!r} is not 0, 1 or 2")
    return Prompt(frame=int(data["frame"]), obj_id=obj_id, points=points, labels=labels, choice=choice,
                  box=None if box is None else np.asarray(box, dtype=np.float32).reshape(4))


def _memory(obj: dict) -> str:
    """The object's memory policy name ("sam2" when absent); an unknown one is refused."""
    from core.video.memory_policy import parse_policy

    try:
        return parse_policy(obj.get("memory")).name
    except ValueError as err:
        raise ProjectError(f"object {obj['id']}: {err}") from None


def _fill(doc: AnnotationDocument, obj: dict) -> None:
    color = tuple(int(c) for c in obj["color"])
    if len(color) != 3:
        raise ProjectError(f"object {obj['id']} has a colour of {len(color)} channels")
    attributes = obj.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ProjectError(f"object {obj['id']} attributes are not an object")
    frame_attributes = obj.get("frame_attributes") or {}  # optional (issue 17): absent in older files
    if not isinstance(frame_attributes, dict) or not all(isinstance(v, dict) for v in frame_attributes.values()):
        raise ProjectError(f"object {obj['id']} frame attributes are not an object of objects")
    record = ObjectRecord(obj_id=int(obj["id"]), name=str(obj["name"]), category=str(obj["category"]),
                          color=color, attributes=attributes,  # type: ignore[arg-type]
                          frame_attributes={int(f): dict(v) for f, v in frame_attributes.items()},
                          notes=notes_from_json(int(obj["id"]), obj.get("notes")),
                          source=str(obj.get("source") or "manual"),  # optional (issue 20): absent in older files
                          memory=_memory(obj))  # optional (issue 18): absent in older files
    if record.obj_id in doc.objects or record.obj_id <= 0:
        raise ProjectError(f"object id {record.obj_id} is repeated or not positive")
    doc.put_object(record)
    for m in obj["masks"]:
        height, width = (int(v) for v in m["size"])
        entry = MaskEntry(
            rle=Rle(height, width, str(m["counts"]).encode("ascii")), source=MaskSource(m["source"]),
            locked=bool(m["locked"]), object_score=_optional_float(m.get("object_score")),
            iou=_optional_float(m.get("iou")), reviewed=reviewed_from_json(m, bool(m["locked"])),
        )
        doc.set_mask(record.obj_id, int(m["frame"]), entry)
    for p in obj.get("prompts", []):
        prompt = _prompt(record.obj_id, p)
        doc.set_prompt(record.obj_id, prompt.frame, prompt)


def document_from_json(data: object) -> tuple[AnnotationDocument, str | None]:
    """A document from a parsed project (any known schema), and the video's relative path if stored.

    Raises ProjectError (one line) for anything malformed.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT_TAG:
        raise ProjectError("it is not a Masklet project")
    try:  # core.validation: every field's type, range and size, before any work (issue 21)
        check_raw(data)
        data = migrate(data)
        check_project(data)
    except Invalid as exc:
        raise ProjectError(str(exc)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProjectError(f"its schema {data.get('schema_version')!r} content is malformed ({exc})") from None
    try:
        doc = AnnotationDocument(_video(data.get("video")))
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ProjectError("its metadata is not an object")
        doc.metadata = metadata
        try:
            doc.labels = LabelSchema.from_json(data.get("labels"))  # optional (issue 17): absent in older files
        except LabelError as exc:
            raise ProjectError(f"its labels are not valid ({exc})") from None
        objects = data["objects"]
        if not isinstance(objects, list):
            raise ProjectError("its objects are not a list")
        for obj in objects:
            _fill(doc, obj)
    except ProjectError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeEncodeError, DocumentError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ProjectError(f"it is malformed ({detail})") from None
    video = data.get("video")
    relative = video.get("relative_path") if isinstance(video, dict) else None
    return doc, (str(relative) if relative else None)
