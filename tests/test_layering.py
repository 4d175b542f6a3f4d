"""The layering of the design is a check that fails, not a convention.

Two checks: import-linter's contracts in pyproject.toml (whole packages), and an AST scan
for what import-linter cannot express (a submodule of an external package, such as
PySide6.QtWidgets, or imports hidden inside functions).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": ("PySide6", "shiboken6", "qtawesome", "qtpy", "annotator", "ui"),
    "annotator": ("ui", "PySide6.QtWidgets", "qtawesome"),
    "ui": ("torch",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, absolute names, with the line number."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    bad: list[str] = []
    for path in sorted((root / package).rglob("*.py")):
        for lineno, module in imported_modules(path):
            for prefix in FORBIDDEN[package]:
                if module == prefix or module.startswith(prefix + "."):
                    bad.append(f"{path.relative_to(root)}:{lineno} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layering(package: str) -> None:
    assert violations(package) == []


def test_scan_catches_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "ui").mkdir()
    (tmp_path / "ui" / "bad.py").write_text("def f():\n    import torch.nn as nn\n")
    assert violations("ui", tmp_path) == ["ui/bad.py:2 imports torch.nn"]


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
