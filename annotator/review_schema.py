"""The review fields of the project file (schema 3), and the migration from schema 2 (no Qt).

Schema 3 adds, per mask, ``"reviewed": bool`` (accepted in review mode; a reviewed mask is locked)
and, per object, ``"notes": [{"frame": int, "text": str}, ...]`` (the reviewer's notes, sorted by
frame). A schema-2 file has neither: its masks are read as not reviewed and its objects without
notes. Files written by this version always carry both.
"""

from __future__ import annotations

from annotator.document import ObjectRecord


class ReviewFieldError(ValueError):
    """A review field of the project file that cannot be read (the message is one line)."""


def v2_to_v3(data: dict) -> dict:
    """Schema 2 -> 3: every mask gains ``reviewed: false``, every object an empty ``notes`` list."""
    for obj in data.get("objects", []) or []:
        if not isinstance(obj, dict):
            continue  # the reader says what is wrong with it
        for mask in obj.get("masks", []) or []:
            if isinstance(mask, dict):
                mask.setdefault("reviewed", False)
        obj.setdefault("notes", [])
    data["schema_version"] = 3
    return data


def notes_to_json(record: ObjectRecord) -> list[dict]:
    return [{"frame": int(frame), "text": text} for frame, text in sorted(record.notes.items()) if text]


def notes_from_json(obj_id: int, data: object) -> dict[int, str]:
    """frame -> text from an object's ``notes`` list (absent or null: no notes)."""
    if data is None:
        return {}
    if not isinstance(data, list):
        raise ReviewFieldError(f"object {obj_id} notes are not a list")
    notes: dict[int, str] = {}
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ReviewFieldError(f"object {obj_id} has a note without a frame and a text")
        try:
            frame = int(item["frame"])
        except (KeyError, TypeError, ValueError):
            raise ReviewFieldError(f"object {obj_id} has a note without a frame number") from None
        if item["text"]:
            notes[frame] = item["text"]
    return notes


def reviewed_from_json(mask: dict, locked: bool) -> bool:
    """A mask's review mark; a reviewed mask is locked, so an unlocked one is read as not reviewed."""
    return bool(mask.get("reviewed", False)) and locked
