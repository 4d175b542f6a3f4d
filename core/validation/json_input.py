"""Parsing JSON text from a file with bounds: size, nesting, and no NaN or infinity.

Python's json module accepts ``NaN``/``Infinity`` (not JSON) and recurses once per level of
nesting (a file nested a thousand deep raises RecursionError from inside the parser). Both are
refused here with one line; the nesting is counted on the bytes, before the parser runs.
"""

from __future__ import annotations

import json

import numpy as np

from core.validation.bounds import MAX_JSON_DEPTH, Invalid

MAX_JSON_BYTES = 4 << 30
_PRESCAN_BYTES = 1 << 20


def _reject_constant(name: str) -> float:
    raise Invalid(f"holds {name}, which is not JSON (not a finite number)")


def nesting_depth(raw: bytes) -> int:
    """Deepest nesting of [ and { in JSON bytes, strings skipped (vectorised numpy, no Python loop)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    if data.size == 0:
        return 0
    quote = data == ord('"')
    backslash = data == ord("\\")
    if backslash.any() and quote.any():
        # a quote after an odd run of backslashes is escaped: the run's length at i - 1 is
        # (i - 1) - (the last position before i that is not a backslash)
        positions = np.arange(data.size)
        last_other = np.maximum.accumulate(np.where(backslash, -1, positions))
        run_before = np.zeros(data.size, dtype=np.int64)
        run_before[1:] = positions[:-1] - last_other[:-1]
        quote &= run_before % 2 == 0
    inside = np.cumsum(quote) % 2 == 1  # True inside a string (and on its opening quote)
    step = np.zeros(data.size, dtype=np.int8)
    step[(data == ord("[")) | (data == ord("{"))] = 1
    step[(data == ord("]")) | (data == ord("}"))] = -1
    step[inside] = 0
    return int(np.cumsum(step, dtype=np.int64).max(initial=0))


def parse_json(raw: bytes, *, depth: int = MAX_JSON_DEPTH, allow_nan: bool = False) -> object:
    """The JSON value of ``raw`` (UTF-8); raises Invalid (one line) for anything else.

    allow_nan: read NaN/Infinity (as Python writes them; other tools' datasets may hold them
    in fields Masklet does not use: the values it keeps are checked where it keeps them)."""
    if len(raw) > MAX_JSON_BYTES:
        raise Invalid(f"{len(raw)} bytes of JSON, more than {MAX_JSON_BYTES}")
    # json's scanner stops itself with a RecursionError at the interpreter's recursion limit
    # (~1000 levels); below that, the free-form values (attributes, metadata) are held to
    # ``depth`` by the validators (bounds.depth_at_most). A scan of the bytes first
    # (nesting_depth) took 3-4 times json.loads' own time, so it is for small files only.
    if len(raw) <= _PRESCAN_BYTES and nesting_depth(raw) > depth:
        raise Invalid(f"nested more than {depth} levels deep")
    try:
        text = raw.decode("utf-8")
        return json.loads(text) if allow_nan else json.loads(text, parse_constant=_reject_constant)
    except Invalid:
        raise
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise Invalid(f"nested more than {depth} levels deep (the parser's limit)") from None
    except ValueError as exc:
        raise Invalid(f"not valid JSON ({exc})") from None
