"""Limits on what a file may claim, and the typed checks every validator is built from.

Limits come from what the formats can hold and from memory: a frame of 2**28 pixels is 768 MiB
as RGB (a 16384 x 16384 picture); 10**7 frames is 46 hours at 60 fps. A claimed size is
checked against these before anything is allocated from it.

Every check raises ``Invalid`` with one line ``FIELD: PROBLEM``; the caller names the file.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

MAX_FRAME_PIXELS = 2**28
MAX_SIDE = 2**16  # pixels along one side of a frame
MAX_FRAMES = 10**7
MAX_FPS = 10_000.0
MAX_OBJECTS = 100_000
MAX_JSON_DEPTH = 64  # nesting of any JSON value Masklet reads (attributes, metadata included)
MAX_POINTS = 10_000  # clicks in one prompt
MAX_TEXT = 1 << 20  # characters in one name, category, note or path
MAX_COORDINATE = 1e7  # pixels; anything larger is no coordinate of a frame Masklet can open


class Invalid(ValueError):
    """A value read from a file that Masklet refuses; the message is ``FIELD: PROBLEM`` on one line."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def integer(value: object, field: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (true/false and 1.0 are not whole numbers here)."""
    if not is_int(value):
        raise Invalid(f"{field}: must be a whole number, not {_show(value)}")
    if not lo <= value <= hi:  # type: ignore[operator]
        raise Invalid(f"{field}: {value} is outside {lo}..{hi}")
    return int(value)  # type: ignore[arg-type]


def number(value: object, field: str, lo: float = -math.inf, hi: float = math.inf, *, above: bool = False) -> float:
    """A finite number in [lo, hi] (``above``: strictly above lo)."""
    if not is_number(value):
        raise Invalid(f"{field}: must be a number, not {_show(value)}")
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        raise Invalid(f"{field}: must be a finite number, not {x}")
    if x < lo or x > hi or (above and x == lo):
        bound = f"above {lo:g}" if above else f"in {lo:g}..{hi:g}"
        raise Invalid(f"{field}: {x:g} is not {bound}" + (f" and at most {hi:g}" if above and hi < math.inf else ""))
    return x


def optional_number(value: object, field: str, lo: float = -math.inf, hi: float = math.inf) -> float | None:
    return None if value is None else number(value, field, lo, hi)


def boolean(value: object, field: str) -> bool:
    """Exactly true or false (the text "false" is not false)."""
    if not isinstance(value, bool):
        raise Invalid(f"{field}: must be true or false, not {_show(value)}")
    return value


def text(value: object, field: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field}: must be text, not {_show(value)}")
    if len(value) > limit:
        raise Invalid(f"{field}: {len(value)} characters, more than {limit}")
    return value


def mapping(value: object, field: str) -> dict:
    if not isinstance(value, dict):
        raise Invalid(f"{field}: must be an object, not {type(value).__name__}")
    return value


def sequence(value: object, field: str, limit: int) -> list:
    if not isinstance(value, list):
        raise Invalid(f"{field}: must be a list, not {type(value).__name__}")
    if len(value) > limit:
        raise Invalid(f"{field}: {len(value)} entries, more than {limit}")
    return value


def frame_size(width: object, height: object, field: str) -> tuple[int, int]:
    """(width, height) of a frame: each side 1..MAX_SIDE and at most MAX_FRAME_PIXELS in all."""
    w = integer(width, f"{field}.width", 1, MAX_SIDE)
    h = integer(height, f"{field}.height", 1, MAX_SIDE)
    if w * h > MAX_FRAME_PIXELS:
        raise Invalid(f"{field}: {w}x{h} is {w * h} pixels a frame, more than {MAX_FRAME_PIXELS}")
    return w, h


def frame_count(value: object, field: str) -> int:
    return integer(value, field, 0, MAX_FRAMES)


def fps(value: object, field: str) -> float:
    """Frames per second, finite, 0 (unknown: a dataset without its video) to MAX_FPS."""
    return number(value, field, 0.0, MAX_FPS)


def no_duplicates(items: Iterable[object], field: str, what: str) -> None:
    """Refuse repeated items, naming them: ``objects: id 3 appears 2 times``."""
    repeated = [(item, n) for item, n in Counter(items).items() if n > 1]
    if repeated:
        shown = ", ".join(f"{what} {item} appears {n} times" for item, n in repeated[:3])
        more = f" (and {len(repeated) - 3} more)" if len(repeated) > 3 else ""
        raise Invalid(f"{field}: {shown}{more}; each may appear once")


def depth_at_most(value: object, field: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                raise Invalid(f"{field}: nested more than {limit} levels deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def all_finite(value: object, field: str) -> None:
    """Refuse NaN and infinity anywhere inside a JSON value (they are not JSON)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise Invalid(f"{field}: holds {item}, which is not a finite number")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
