"""The manifest of ``masklet batch``: JSON Lines, one video a line.

    {"video": "clips/dog.mp4", "prompts": "clips/dog.prompts.json", "id": "dog"}
    {"video": "s3://bucket/raw/cat.mp4", "prompts": {"objects": [...]}}

``video``: a video file or frame folder, a path (relative to the manifest's folder) or a URL
fsspec opens. ``prompts``: the prompts of ``masklet track`` (docs/prompts_json.md), inline or as
a path/URL of a JSON file; or, in its place, ``auto``: the settings of an automatic run
(``masklet track --auto``; ``{}`` for the defaults). ``id``: the name of the job's results
folder; default the video's name without its extension. Blank lines are skipped.

A line that is not such an object (not JSON, no video, an unknown field, an id used twice)
stops the run before anything starts, with one line naming the manifest line. A prompts file
that cannot be read does not: that job fails as data (``JobSpec.problem``) and the others run.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import PurePosixPath
from typing import Callable

from core.batch.jobs import AutoWork, JobSpec, PromptedWork, Work
from core.batch.keys import is_url

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ManifestError(ValueError):
    """A manifest that cannot be run; the message is one line naming the file and line."""


def _resolve(location: str, base: str) -> str:
    """A manifest's path relative to its folder; URLs and absolute paths as they are."""
    if is_url(location) or os.path.isabs(location):
        return location
    return os.path.normpath(os.path.join(base, location))


def _read_json(location: str) -> object:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location)
    with fs.open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def _prompted(value: object, base: str, where: str) -> tuple[Work | None, str | None]:
    """The prompts field: an inline object, or a path/URL of a JSON file read now."""
    if isinstance(value, dict):
        return PromptedWork(value, "inline"), None
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: prompts is a JSON object or the path of a prompts file")
    location = _resolve(value, base)
    try:
        data = _read_json(location)
    except FileNotFoundError:
        return None, f"{value}: no such prompts file"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{value} is not a readable JSON file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if not isinstance(data, dict):
        return None, f'{value}: the prompts file needs {{"objects": [...]}}'
    return PromptedWork(data, location), None


def _auto(value: object, base: str, where: str) -> tuple[Work | None, str | None]:
    """The auto field: an object of settings (``{}`` for the defaults), checked by the tracker."""
    if not isinstance(value, dict):
        raise ManifestError(f'{where}: auto is a JSON object of settings, e.g. {{"frame": 0, "every": 30}}')
    return AutoWork(value), None


# manifest field -> reader of its value (value, manifest folder, where) -> (work, problem).
# Each job has exactly one of these fields.
WORK_KINDS: dict[str, Callable[[object, str, str], tuple[Work | None, str | None]]] = {"prompts": _prompted, "auto": _auto}
FIELDS = {"video", "id", *WORK_KINDS}


def default_id(video: str) -> str:
    """The results folder of a video without an id: its name without extension, made safe."""
    name = PurePosixPath(video.rstrip("/").replace("\\", "/")).name
    stem = name if "." not in name[1:] else name[: name.rindex(".")]
    safe = _UNSAFE.sub("_", stem).strip("._-")
    return safe or "video"


def parse_line(text: str, number: int, base: str, where: str) -> JobSpec:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ManifestError(f"{where}: not a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: not a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise ManifestError(f"{where}: unknown fields: {', '.join(sorted(unknown))} (expected {', '.join(sorted(FIELDS))})")
    video = data.get("video")
    if not isinstance(video, str) or not video:
        raise ManifestError(f"{where}: needs \"video\", the path or URL of a video file or frame folder")
    kinds = [k for k in WORK_KINDS if k in data]
    if len(kinds) != 1:
        raise ManifestError(f"{where}: needs exactly one of {', '.join(WORK_KINDS)}")
    job_id = data.get("id", default_id(video))
    if not isinstance(job_id, str) or not ID_PATTERN.match(job_id):
        raise ManifestError(f"{where}: id {job_id!r} must be letters, digits, '.', '_' or '-' "
                            "(at most 128, starting with a letter or digit)")
    work, problem = WORK_KINDS[kinds[0]](data[kinds[0]], base, where)
    return JobSpec(job_id=job_id, video=_resolve(video, base), work=work, line=number, problem=problem)


def parse_manifest(lines: list[str], name: str, base: str) -> list[JobSpec]:
    """The jobs of a manifest's lines; ``name`` for messages, ``base`` the folder paths are relative to."""
    jobs: list[JobSpec] = []
    seen: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        job = parse_line(text, number, base, f"{name} line {number}")
        if job.job_id in seen:
            raise ManifestError(f"{name} line {number}: id {job.job_id!r} is already used on line {seen[job.job_id]} "
                                "(give one of them its own \"id\")")
        seen[job.job_id] = number
        jobs.append(job)
    if not jobs:
        raise ManifestError(f"{name}: no videos (one JSON object a line: {{\"video\": ..., \"prompts\": ...}})")
    return jobs


def read_manifest(location: str) -> list[JobSpec]:
    """Read and check a manifest (a path or URL); raises ManifestError (one line)."""
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(location)
        with fs.open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{location}: no such manifest file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{location}: cannot read the manifest ({exc})") from None
    base = location.rsplit("/", 1)[0] if is_url(location) else os.path.dirname(os.path.abspath(location))
    return parse_manifest(text.splitlines(), os.path.basename(location.rstrip("/")), base)

