"""``masklet batch``'s command line without a model or Ray: flags, one-line errors, --status, a finished run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import main
from annotator.cli.batch import build_parser
from core.batch.actor import BatchWorker
from core.batch.destination import Destination
from core.batch.jobs import JobStatus, ModelRef, RunSettings
from core.batch.keys import file_identity
from core.batch.manifest import read_manifest
from tests.batch_helpers import file_tracker


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["batch", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("MANIFEST", "--out", "--address", "--model", "--checkpoint", "--device", "--gpus-per-video",
                 "--cpus-per-video", "--formats", "--memory", "--retries", "--status", "--workers"):
        assert flag in text, flag
    args = build_parser().parse_args(["m.jsonl", "--out", "d", "--formats", "masklet,coco,sav,coco", "--memory", "samurai",
                                      "--gpus-per-video", "0.5"])
    assert args.formats == ("coco", "sav") and args.memory == "samurai" and args.gpus_per_video == 0.5


@pytest.mark.parametrize("argv, code, words", [
    (["batch"], 2, "give MANIFEST and --out DEST, or --status DEST"),
    (["batch", "m.jsonl"], 2, "give MANIFEST and --out DEST"),
    (["batch", "m.jsonl", "--out", "d", "--formats", "coco,gif"], 2, "unknown format gif"),
    (["batch", "m.jsonl", "--out", "d", "--memory", "lstm"], 2, "invalid choice: 'lstm'"),
    (["batch", "m.jsonl", "--out", "d", "--gpus-per-video", "-1"], 2, "must be between 0 and 64"),
    (["batch", "m.jsonl", "--out", "d", "--retries", "x"], 2, "not a whole number"),
    (["batch", "m.jsonl", "--out", "d", "--model", "a", "--checkpoint", "b"], 2, "not allowed with argument"),
    (["batch", "m.jsonl", "--status", "d"], 2, "--status DEST takes no MANIFEST"),
    (["batch", "none.jsonl", "--out", "d"], 1, "none.jsonl: no such manifest file"),
])
def test_usage_and_input_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.jsonl").write_text('{"video": "v.mp4", "prompts": {}}\n')
    assert main.main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("masklet batch") and words in err, err
    assert not (tmp_path / "d").exists()


def test_model_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.jsonl").write_text('{"video": "v.mp4", "prompts": {}}\n{"video": "w.mp4", "prompts": {}, "id": "v"}\n')
    assert main.main(["batch", "m.jsonl", "--out", "d", "--checkpoint", "x.pt"]) == 1
    assert capsys.readouterr().err.strip() == "masklet batch: m.jsonl line 2: id 'v' is already used on line 1 (give one of them its own \"id\")"
    (tmp_path / "m.jsonl").write_text('{"video": "v.mp4", "prompts": {}}\n')
    assert main.main(["batch", "m.jsonl", "--out", "d", "--checkpoint", "x.pt"]) == 1
    assert capsys.readouterr().err.strip() == "masklet batch: x.pt: no such checkpoint file"
    assert main.main(["batch", "m.jsonl", "--out", "d", "--model", "sam9_huge"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sam9_huge" in err


def test_a_finished_destination_needs_no_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every job already finished with these settings: the rerun skips them all without starting Ray."""
    for name in ("a", "b"):
        (tmp_path / f"{name}.mp4").write_bytes(name.encode() * 50)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"video": f"{n}.mp4", "prompts": {"objects": []}}) + "\n" for n in "ab"))
    checkpoint = tmp_path / "tiny.pt"
    checkpoint.write_bytes(b"weights")
    # what the command line makes of --checkpoint tiny.pt --device cpu --formats masklet,sav
    settings = RunSettings(model=ModelRef(None, str(checkpoint), file_identity(str(checkpoint))), device="cpu",
                           formats=("sav",))
    dest = Destination(str(tmp_path / "out"))
    dest.prepare()
    worker = BatchWorker(file_tracker, settings, dest)
    assert [worker.run(job).status for job in read_manifest(str(manifest))] == [JobStatus.DONE, JobStatus.DONE]
    argv = ["batch", str(manifest), "--out", str(tmp_path / "out"), "--checkpoint", str(checkpoint), "--device", "cpu",
            "--formats", "masklet,sav"]
    assert main.main(argv) == 0
    assert "2 videos: 0 done, 2 skipped (finished before), 0 failed" in capsys.readouterr().err
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
    assert main.main(["batch", "--status", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'out'}: 2 jobs: 2 done, 0 failed, 0 unfinished (1 runs")
    # other settings (a memory policy): these results are not theirs, the jobs would run
    from core.batch.driver import plan

    todo, _ = plan(read_manifest(str(manifest)), dest, RunSettings(model=settings.model, device="cpu",
                                                                  formats=("sav",), memory="sam2long"))
    assert [j.job_id for j in todo] == ["a", "b"]
