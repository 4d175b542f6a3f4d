"""Where the official SAM 2 reference is and how the comparison scripts import it.

The reference (facebookresearch/sam2 at a pinned commit, and a venv in which it imports) is set up
beside the checkout by bench/parity/setup_official.sh and named by two environment variables:
SAM2_OFFICIAL (its checkout) and SAM2_OFFICIAL_PYTHON (the venv's interpreter). See
bench/parity/README.md. Nothing of Masklet itself imports this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT.parent / "shared" / "tools"
HOW = "set it up with bench/parity/setup_official.sh, see bench/parity/README.md"


def official_path() -> str:
    """$SAM2_OFFICIAL, checked; exits with a one-line message when unset or not the official code."""
    path = os.environ.get("SAM2_OFFICIAL")
    if not path:
        sys.exit(f"set SAM2_OFFICIAL to the official facebookresearch/sam2 checkout ({HOW})")
    if not (Path(path) / "sam2" / "build_sam.py").is_file():
        sys.exit(f"SAM2_OFFICIAL={path} is not a facebookresearch/sam2 checkout ({HOW})")
    return path


def official_python() -> str:
    """$SAM2_OFFICIAL_PYTHON, the reference venv's interpreter; exits with a one-line message when unset."""
    python = os.environ.get("SAM2_OFFICIAL_PYTHON")
    if not python:
        sys.exit(f"set SAM2_OFFICIAL_PYTHON to the python of the official SAM 2's venv ({HOW})")
    if not os.access(python, os.X_OK):
        sys.exit(f"SAM2_OFFICIAL_PYTHON={python} is not an interpreter ({HOW})")
    return python


def import_official(path: str | None = None) -> str:
    """Make ``import sam2`` load the official package (from ``path``, else $SAM2_OFFICIAL).

    With the CPU torch of our machines the registry's torchvision (a CUDA build) does not import;
    the shared torchvision_cpu_fix.py (installed in the reference venv by the set-up script, and
    taken from ../shared/tools here too) defines the two operator schemas it needs first.
    """
    path = path or official_path()
    if (TOOLS / "torchvision_cpu_fix.py").is_file():
        sys.path.insert(0, str(TOOLS))
    try:
        import torchvision_cpu_fix
    except ImportError:  # neither installed nor beside the checkout: torchvision may still import
        pass
    else:
        torchvision_cpu_fix.install()
    sys.path.insert(0, path)
    return path
