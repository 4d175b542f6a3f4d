"""``masklet track --labels labels.json``: the project gets the schema, categories in its spelling, and
a category the schema lacks is a one-line error before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.labels import AttributeKind, AttributeSpec, Label, LabelSchema, write_labels
from annotator.project import load_project
from tests.test_cli_track import one_torch_thread, run, workdir  # noqa: F401 - fixtures

SCHEMA = LabelSchema((Label(4, "Furniture", (1, 2, 3), (AttributeSpec("material", AttributeKind.CHOICE, ("wood", "metal")),)),
                      Label(9, "object", (4, 5, 6))))


def test_a_category_missing_from_the_labels_is_refused_at_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_labels(LabelSchema((Label(1, "furniture"),)), workdir / "few.json")
    assert run(workdir, "--labels", str(workdir / "few.json"), out="l.masklet") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the category 'object' is not a label (furniture)" in err
    (workdir / "bad.json").write_text(json.dumps({"labels": [{"name": "a"}, {"name": "A"}]}))
    assert run(workdir, "--labels", str(workdir / "bad.json"), out="l.masklet") == 1
    assert "bad.json is not valid" in capsys.readouterr().err
    assert not (workdir / "l.masklet").exists()


@pytest.mark.slow
def test_track_with_labels_saves_the_schema(workdir: Path) -> None:
    write_labels(SCHEMA, workdir / "labels.json")
    assert run(workdir, "--labels", str(workdir / "labels.json"), out="labelled.masklet") == 0
    doc, _ = load_project(workdir / "labelled.masklet")
    assert doc.labels == SCHEMA
    assert {o.category for o in doc.objects.values()} == {"Furniture", "object"}
    bed = next(o for o in doc.objects.values() if o.name == "bed")
    assert bed.attributes == {"material": "wood"}
