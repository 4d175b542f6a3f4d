"""The prompts file of ``masklet track``: reading it into typed records, checking it against the video.

Schema (docs/prompts_json.md)::

    {"objects": [{"id": 1, "name": "dog", "category": "animal",
                  "prompts": [{"frame": 0, "points": [[x, y], ...], "labels": [1, 0],
                               "box": [x0, y0, x1, y1]}]}]}

Coordinates are pixels of the original frame, x then y. ``labels`` default to all positive;
each prompt needs points or a box (or both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.types import Prompt
from core.validation.bounds import MAX_COORDINATE, MAX_OBJECTS, MAX_POINTS, Invalid
from core.validation.inputs import protect_input
from core.validation.json_input import parse_json

MAX_PROMPTS_BYTES = 256 << 20


class PromptsError(ValueError):
    """A prompts file that cannot be used; the message is one line naming what is wrong and where."""


@dataclass(frozen=True)
class ObjectPrompts:
    """One object of the prompts file and its prompts (sorted by frame, one per frame)."""

    obj_id: int
    name: str
    category: str
    prompts: tuple[Prompt, ...]
    memory: str | None = None  # its "memory" policy (core.video.memory_policy); None: the run's --memory


def _number_list(value: object, where: str) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise PromptsError(f"{where} must be a list of numbers")
    if len(value) > MAX_POINTS * 2:
        raise PromptsError(f"{where}: {len(value)} numbers, more than {MAX_POINTS * 2}")
    numbers = [float(v) for v in value]
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in numbers):
        raise PromptsError(f"{where} holds a number that is not finite or beyond {MAX_COORDINATE:g}")
    return numbers


def _prompt(obj_id: int, data: object, where: str) -> Prompt:
    if not isinstance(data, dict):
        raise PromptsError(f"{where} must be an object with frame, points, labels and/or box")
    unknown = set(data) - {"frame", "points", "labels", "box"}
    if unknown:
        raise PromptsError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    frame = data.get("frame")
    if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
        raise PromptsError(f"{where} needs a frame number (0 or more)")
    points_data = data.get("points")
    points = np.zeros((0, 2), np.float32)
    if points_data is not None:
        if not isinstance(points_data, list) or len(points_data) > MAX_POINTS:
            raise PromptsError(f"{where}: points must be a list of at most {MAX_POINTS} [x, y]")
        rows = [_number_list(p, f"{where}: each point") for p in points_data]
        if any(len(r) != 2 for r in rows):
            raise PromptsError(f"{where}: each point is [x, y]")
        points = np.array(rows, np.float32).reshape(-1, 2)
    labels_data = data.get("labels")
    if labels_data is None:
        labels = np.ones(len(points), np.int32)
    else:
        values = _number_list(labels_data, f"{where}: labels")
        if any(v not in (0.0, 1.0) for v in values):
            raise PromptsError(f"{where}: labels are 1 (object) or 0 (background)")
        if len(values) != len(points):
            raise PromptsError(f"{where}: {len(values)} labels for {len(points)} points")
        labels = np.array(values, np.int32)
    box = None
    if data.get("box") is not None:
        corners = _number_list(data["box"], f"{where}: box")
        if len(corners) != 4 or not (corners[2] > corners[0] and corners[3] > corners[1]):
            raise PromptsError(f"{where}: box is [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        box = np.array(corners, np.float32)
    if len(points) == 0 and box is None:
        raise PromptsError(f"{where} needs points or a box")
    return Prompt(frame=frame, obj_id=obj_id, points=points, labels=labels, box=box)


def parse_prompts(data: object) -> list[ObjectPrompts]:
    """Objects and prompts from a parsed prompts file; raises PromptsError (one line)."""
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list) or not data["objects"]:
        raise PromptsError('the prompts file needs {"objects": [...]} with at least one object')
    if len(data["objects"]) > MAX_OBJECTS:
        raise PromptsError(f"objects: {len(data['objects'])} objects, more than {MAX_OBJECTS}")
    objects: list[ObjectPrompts] = []
    for i, obj in enumerate(data["objects"]):
        if not isinstance(obj, dict):
            raise PromptsError(f"objects[{i}] must be an object")
        obj_id = obj.get("id")
        if not isinstance(obj_id, int) or isinstance(obj_id, bool) or not 0 < obj_id < 2**31:
            raise PromptsError(f"objects[{i}] needs an id, a positive whole number")
        if any(o.obj_id == obj_id for o in objects):
            raise PromptsError(f"object id {obj_id} appears twice")
        name, category = obj.get("name", f"object {obj_id}"), obj.get("category", "object")
        if not isinstance(name, str) or not isinstance(category, str):
            raise PromptsError(f"object {obj_id}: name and category are text")
        raw = obj.get("prompts")
        if not isinstance(raw, list) or not raw:
            raise PromptsError(f"object {obj_id} needs a non-empty prompts list")
        prompts = [_prompt(obj_id, p, f"object {obj_id} prompts[{j}]") for j, p in enumerate(raw)]
        frames = [p.frame for p in prompts]
        if len(set(frames)) != len(frames):
            raise PromptsError(f"object {obj_id} has two prompts on one frame; put that frame's clicks in one prompt")
        memory = obj.get("memory")
        if memory is not None:
            from core.video.memory_policy import parse_policy

            try:
                memory = parse_policy(memory).name
            except ValueError as exc:
                raise PromptsError(f"object {obj_id}: {exc}") from None
        objects.append(ObjectPrompts(obj_id, name, category, tuple(sorted(prompts, key=lambda p: p.frame)), memory))
    return objects


def read_prompts(path: Path) -> list[ObjectPrompts]:
    """Read and check a prompts file (everything that does not need the video)."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_PROMPTS_BYTES:
            raise PromptsError(f"{path}: {size} bytes, more than a prompts file needs ({MAX_PROMPTS_BYTES})")
        protect_input(path, "the prompts file being read")
        data = parse_json(Path(path).read_bytes())
    except FileNotFoundError:
        raise PromptsError(f"{path}: no such prompts file") from None
    except IsADirectoryError:
        raise PromptsError(f"{path}: a folder, not a prompts file") from None
    except (OSError, Invalid) as exc:
        raise PromptsError(f"{path} is not a readable JSON file ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        return parse_prompts(data)
    except PromptsError as exc:
        raise PromptsError(f"{path}: {exc}") from None


def check_against_video(objects: list[ObjectPrompts], width: int, height: int, frame_count: int) -> None:
    """Every prompt on a frame of the video and inside its picture (width x height pixels)."""
    for obj in objects:
        for p in obj.prompts:
            where = f"object {obj.obj_id} frame {p.frame}"
            if p.frame >= frame_count:
                raise PromptsError(f"{where}: the video has frames 0..{frame_count - 1}")
            coords = list(p.points) + ([] if p.box is None else [p.box[:2], p.box[2:]])
            for x, y in coords:
                if not (0 <= x <= width and 0 <= y <= height):
                    raise PromptsError(f"{where}: ({x:g}, {y:g}) is outside the {width}x{height} picture")
