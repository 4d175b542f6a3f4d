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


def _reject_constant(name: str) -> float:
    raise Invalid(f"holds {name}, which is not JSON (not a finite number)")


def nesting_depth(raw: bytes) -> int:
    """Deepest nesting of [ and { in JSON bytes, strings skipped (vectorised; ~1 ns a byte)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    quote = data == ord('"')
    if quote.any():
        # a quote preceded by an odd number of backslashes is escaped
        backslash = np.concatenate(([False], data[:-1] == ord("\\")))
        if backslash.any():
            idx = np.flatnonzero(quote)
            escaped = np.zeros(idx.size, dtype=bool)
            for k, i in enumerate(idx):  # only quotes right after a backslash need the count
                if backslash[i]:
                    j = i - 1
                    while j >= 0 and data[j] == ord("\\"):
                        j -= 1
                    escaped[k] = (i - 1 - j) % 2 == 1
            quote[idx[escaped]] = False
        inside = np.cumsum(quote) % 2 == 1  # True inside a string (and on its opening quote)
    else:
        inside = np.zeros(data.size, dtype=bool)
    step = np.zeros(data.size, dtype=np.int32)
    step[(data == ord("[")) | (data == ord("{"))] = 1
    step[(data == ord("]")) | (data == ord("}"))] = -1
    step[inside] = 0
    return int(np.cumsum(step).max(initial=0))


def parse_json(raw: bytes, *, depth: int = MAX_JSON_DEPTH, allow_nan: bool = False) -> object:
    """The JSON value of ``raw`` (UTF-8); raises Invalid (one line) for anything else.

    allow_nan: read NaN/Infinity (as Python writes them; other tools' datasets may hold them
    in fields Masklet does not use: the values it keeps are checked where it keeps them)."""
    if len(raw) > MAX_JSON_BYTES:
        raise Invalid(f"{len(raw)} bytes of JSON, more than {MAX_JSON_BYTES}")
    if nesting_depth(raw) > depth:
        raise Invalid(f"nested more than {depth} levels deep")
    try:
        text = raw.decode("utf-8")
        return json.loads(text) if allow_nan else json.loads(text, parse_constant=_reject_constant)
    except Invalid:
        raise
    except UnicodeDecodeError as exc:
        raise Invalid(f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise Invalid(f"nested more than {depth} levels deep") from None
    except ValueError as exc:
        raise Invalid(f"not valid JSON ({exc})") from None
