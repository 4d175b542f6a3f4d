"""Cheap checks that a Matroska/WebM or MPEG-TS file is whole, from what its bytes declare.

MP4/MOV are checked against their sample table (core.frames.index). A Matroska file declares
the size of its Segment in its first bytes: a file shorter than that was cut off (a copy or
download that stopped). An MPEG transport stream is a sequence of 188-byte packets (192 in
M2TS), each starting with the sync byte 0x47: a file that ends inside a packet was cut off.
"""

from __future__ import annotations

from pathlib import Path

_EBML_ID = b"\x1a\x45\xdf\xa3"
_SEGMENT_ID = b"\x18\x53\x80\x67"
_TS_SYNC = 0x47


def _vint(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """An EBML variable-length size at ``pos``: (value, bytes used, unknown size), or None."""
    if pos >= len(data):
        return None
    first = data[pos]
    length = next((n + 1 for n in range(8) if first & (0x80 >> n)), 0)
    if not length or pos + length > len(data):
        return None
    value = first & (0xFF >> length)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, length, value == (1 << (7 * length)) - 1


def matroska_problem(path: Path, size: int) -> str | None:
    """One line when the Matroska Segment is declared longer than the file, else None."""
    with open(path, "rb") as f:
        head = f.read(64)
    if not head.startswith(_EBML_ID):
        return None
    header = _vint(head, 4)
    if header is None:
        return None
    pos = 4 + header[1] + header[0]
    if head[pos : pos + 4] != _SEGMENT_ID:
        return None
    segment = _vint(head, pos + 4)
    if segment is None or segment[2]:
        return None  # unknown size: a live recording; nothing declared to check
    end = pos + 4 + segment[1] + segment[0]
    if end > size:
        return f"{path}: truncated, the file has {size} bytes but its Matroska segment runs to byte {end}"
    return None


def transport_stream_problem(path: Path, size: int) -> str | None:
    """One line when an MPEG-TS file ends inside a transport packet, else None."""
    with open(path, "rb") as f:
        head = f.read(384)
        for packet in (188, 192):
            offset = packet - 188  # M2TS puts a 4-byte timestamp before each packet
            if len(head) >= 2 * packet and head[offset] == _TS_SYNC and head[offset + packet] == _TS_SYNC:
                break
        else:
            return None
        if size % packet:
            return f"{path}: truncated, it ends inside a transport packet ({size} bytes is not a multiple of {packet})"
        f.seek(size - packet)
        last = f.read(packet)
    if len(last) == packet and last[offset] != _TS_SYNC:
        return f"{path}: damaged, its last transport packet does not start with the sync byte"
    return None


def truncation_problem(path: Path, format_name: str) -> str | None:
    """What a container's declared sizes say about ``path`` being cut off; None when nothing."""
    try:
        size = path.stat().st_size
        if "matroska" in format_name or "webm" in format_name:
            return matroska_problem(path, size)
        if format_name == "mpegts":
            return transport_stream_problem(path, size)
    except OSError:
        return None
    return None
