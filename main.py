"""Masklet's entry point: ``masklet [VIDEO_OR_PROJECT]`` opens the window, subcommands work headless.

Everything heavy (Qt, torch) is imported only once the chosen command needs it, so
``masklet --version`` and ``masklet --help`` answer at once, with no display and no torch.
"""

from __future__ import annotations

import os
import sys
from typing import Sequence

from core import __version__
from core.allocator import one_heap

HEADLESS_COMMANDS = ("track", "export", "import", "models", "batch")

USAGE = f"""\
usage: masklet [-h] [--version] [VIDEO_OR_PROJECT]
       masklet {{{",".join(HEADLESS_COMMANDS)}}} ...

Masklet {__version__}: annotate object masks in videos with SAM 2.

Without a command, opens the desktop window (optionally on a video file, a folder of
frames or a .masklet project).

headless commands (no display needed):
  track    run SAM 2 over a video from prompts in a JSON file, save a project
  export   write a project as COCO, YouTube-VIS, SA-V, DAVIS or per-object PNGs
  import   make a project from a SA-V, COCO, YouTube-VIS or PNG dataset
  models   list, download or locate the official SAM 2 checkpoints
  batch    track the videos of a manifest on Ray (a local one by default)

Run `masklet COMMAND --help` for a command's options.

options:
  -h, --help  show this help and exit
  --version   print the version and exit
"""


def _has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and platform not in ("xcb", "wayland"):
        return True  # offscreen, minimal, windows, cocoa, ... need no X server
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    # Before any thread starts: the model's worker thread then allocates from the main heap,
    # which keeps the encoder's pages between clicks (core/allocator.py).
    one_heap()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if args and args[0] == "--version":
        print(f"masklet {__version__}")
        return 0
    if args and args[0] in HEADLESS_COMMANDS:
        from annotator.cli import run_command

        return run_command(args[0], args[1:])
    if args and args[0].startswith("-"):
        print(f"masklet: unknown option {args[0]!r} (see masklet --help)", file=sys.stderr)
        return 2
    if len(args) > 1:
        print("masklet: give at most one video, frame folder or project to open (see masklet --help)", file=sys.stderr)
        return 2
    return gui_main(args)


def gui_main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not _has_display():
        print(
            "masklet: no display found; run it under a desktop session or Xvfb "
            "(xvfb-run masklet), or set QT_QPA_PLATFORM=offscreen",
            file=sys.stderr,
        )
        return 1
    from ui.app import run_app

    return end_process(run_app(args[0] if args else None))


def end_process(code: int) -> int:
    """End the desktop app's process now that its window has closed.

    By then everything Masklet writes is saved and synced (the window's close handler stops the
    model worker, writes the settings and asks about unsaved work). What is left is the
    interpreter tearing down torch's native state, about 2 s on our machines for a bare
    ``import torch`` (docs/benchmarks.md): the registered exit handlers run, the output is
    flushed, and the process ends without that teardown.
    """
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
