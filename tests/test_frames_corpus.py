"""Frame-exactness on every codec and container PyAV writes here (tests/video_corpus.py): for
every file, frame N read sequentially, backward and in random order is the N-th frame a plain
sequential decode gives; a truncated file is refused with one line, never served short."""

from __future__ import annotations

import random
from pathlib import Path

import av
import numpy as np
import pytest

from core.frames import FrameSourceError, VideoFrames, open_frames
from core.frames.colour import frame_to_rgb
from tests.video_corpus import CASES, FAST_CASES, Case, write_case

_BY_NAME = {case.name: case for case in CASES}


def _params(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.name, marks=() if c.name in FAST_CASES else pytest.mark.slow) for c in cases]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("corpus")
    written: dict[str, Path | None] = {}

    def get(case: Case) -> Path:
        if case.name not in written:
            written[case.name] = write_case(case, folder)
        path = written[case.name]
        if path is None:
            pytest.skip(f"this FFmpeg build has no {case.codec} encoder")
        return path

    return get


def _reference(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame_to_rgb(f) for f in container.decode(video=0)]


def _which(frame: np.ndarray, ref: list[np.ndarray]) -> list[int]:
    return [j for j, r in enumerate(ref) if np.array_equal(frame, r)]


@pytest.mark.parametrize("case", _params(CASES))
def test_frame_n_is_the_same_however_it_is_reached(corpus, case: Case) -> None:
    path = corpus(case)
    ref = _reference(path)
    assert len(ref) == case.frames
    n = len(ref)
    shuffled = list(range(n))
    random.Random(case.name).shuffle(shuffled)
    orders = {"sequential": list(range(n)), "backward": list(range(n))[::-1], "random": shuffled}
    for how, order in orders.items():
        # a fresh source each time: no frame is served from what another order cached
        with open_frames(path, cache_mb=0) as src:
            assert isinstance(src, VideoFrames)
            assert len(src) == n
            for i in order:
                got = src.get(i)
                assert np.array_equal(got, ref[i]), f"{case.name} {how}: asked {i}, got {_which(got, ref)}"


@pytest.mark.parametrize("case", _params([c for c in CASES if not c.name.endswith(".mpg")]))
def test_a_truncated_file_is_refused_in_one_line(corpus, case: Case, tmp_path: Path) -> None:
    data = corpus(case).read_bytes()
    for fraction in (0.5, 0.9):
        cut = tmp_path / f"cut_{fraction}_{case.name}"
        cut.write_bytes(data[: int(len(data) * fraction) - 3])  # -3: not on a packet boundary
        with pytest.raises(FrameSourceError) as err:
            with open_frames(cut, cache_mb=0) as src:
                for i in range(len(src)):
                    src.get(i)
        message = str(err.value)
        assert "\n" not in message and str(cut) in message


def test_a_file_whose_timestamps_are_not_presentation_order_is_read_by_counting(corpus) -> None:
    """AVI stores no presentation times: H.264 with B-frames there gets decode-order stamps.
    The source notices the frames coming out of order and serves the i-th decoded frame."""
    path = corpus(_BY_NAME["h264.avi"])
    ref = _reference(path)
    with open_frames(path, cache_mb=0) as src:
        for i in (5, 1, 30, 29, 47, 0, 12):
            assert np.array_equal(src.get(i), ref[i]), i
        assert src.index.counting


def test_a_seek_that_lands_mid_gop_starts_from_a_verified_keyframe(corpus) -> None:
    """MPEG-TS seeks by bytes and lands past the keyframe asked for; the last frame of an
    MPEG-2 stream still comes out when read backward (it used to end before it)."""
    path = corpus(_BY_NAME["mpeg2.ts"])
    ref = _reference(path)
    with open_frames(path, cache_mb=0) as src:
        for i in (47, 46, 40, 36, 35, 11):
            assert np.array_equal(src.get(i), ref[i]), i
        assert not src.index.counting  # exact by timestamps, without falling back
        assert src.seeks > 1
