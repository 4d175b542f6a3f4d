"""Category (label) ids and names of an export: the one place every format asks.

A dataset may carry the category table it was imported with (``attributes["categories"]``:
``[{"id": 1, "name": "person", "supercategory": "person"}, ...]``), or the project's own label
schema put there by the annotator (annotator.project_exchange.document_to_dataset): those ids
and names are kept. Categories of tracks the table lacks get the next free ids, in alphabetical
order; with no table at all that is 1.. alphabetically. Readers store the table they read with
:func:`remember_categories`, so import then export gives the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.formats.dataset import Dataset

CATEGORIES_KEY = "categories"


@dataclass(frozen=True)
class Category:
    """One category: id (positive), name, supercategory (COCO's; the name when unknown)."""

    id: int
    name: str
    supercategory: str = ""

    def to_coco(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "supercategory": self.supercategory or self.name}


def _table(dataset: Dataset) -> list[Category]:
    table = dataset.attributes.get(CATEGORIES_KEY)
    out: list[Category] = []
    if not isinstance(table, list):
        return out
    for entry in table:
        if isinstance(entry, dict) and isinstance(entry.get("id"), int) and entry.get("name") is not None:
            out.append(Category(int(entry["id"]), str(entry["name"]), str(entry.get("supercategory") or "")))
    return out


def categories(dataset: Dataset) -> list[Category]:
    """Every category of the export, by id: the kept table first, then the tracks' other categories."""
    table = _table(dataset)
    known = {c.name for c in table}
    next_id = max((c.id for c in table), default=0) + 1
    for name in sorted({t.category for t in dataset.tracks} - known):
        table.append(Category(next_id, name))
        next_id += 1
    return sorted(table, key=lambda c: c.id)


def category_ids(dataset: Dataset) -> dict[str, int]:
    """Category name -> id (see the module docstring)."""
    return {c.name: c.id for c in categories(dataset)}


def remember_categories(attributes: dict[str, object], table: list[Category]) -> None:
    """Store the category table a reader found in a dataset's ``attributes``."""
    if table:
        attributes[CATEGORIES_KEY] = [
            {"id": c.id, "name": c.name, **({"supercategory": c.supercategory} if c.supercategory else {})}
            for c in sorted(table, key=lambda c: c.id)
        ]
