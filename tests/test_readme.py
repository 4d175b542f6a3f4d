"""The README is what a new user reads first: its commands and shortcut list must be the real ones."""

from __future__ import annotations

from pathlib import Path

from ui.shortcuts import markdown_table

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_bound_shortcut() -> None:
    assert markdown_table() in README


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line.strip() for line in README.splitlines() if "pytest" in line and "pip install" in line)
    assert test_command in ci


def test_readme_gives_exactly_two_setup_commands() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in setup.splitlines() if line.strip().startswith("python3 -m venv")]
    assert len(commands) == 2
    assert commands[0].endswith(".venv/bin/masklet")


def test_readme_screenshot_exists() -> None:
    assert "docs/screenshot.png" in README
    assert Path(ROOT / "docs" / "screenshot.png").stat().st_size > 10_000
