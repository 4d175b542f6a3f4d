"""The video engine's memory stays bounded on a long video, and keeps what SAM 2 reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.types import Direction
from core.video import VideoSession
from tests.video_helpers import click, moving_square_video, one_thread, small_model

ROOT = Path(__file__).resolve().parents[1]
_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


@pytest.mark.slow
@pytest.mark.parametrize("spare_frames", [0, 10])
def test_memory_is_flat_on_a_long_video(spare_frames: int) -> None:
    model = small_model(32)
    num_maskmem = model.config.num_maskmem
    max_ptrs = model.config.max_obj_ptrs_in_encoder
    # bf16 features (32 channels, 2 x 2) + float32 logits (8 x 8) per spare frame
    spare_mb = spare_frames * (2 * 32 * 4 + 4 * 64) / 2**20
    session = VideoSession(
        model, moving_square_video(120, 24, 32), feature_cache_frames=4, spare_memory_mb=spare_mb
    )
    session.add_prompt(click(0, 1, 10, 12))
    sizes: dict[int, tuple[int, int, int]] = {}
    for r in session.propagate(direction=Direction.FORWARD):
        track = session.track_state(1)
        with_features = [t for t, e in track.non_cond.items() if e.maskmem is not None]
        sizes[r.frame] = (session.memory_bytes(), len(track.non_cond), len(with_features))
        assert len(session._features) <= 4
    # after the first frames nothing grows: same bytes, same number of stored outputs
    assert len({sizes[f] for f in range(40, 120)}) == 1
    _, outputs, with_features = sizes[119]
    # the 15 pointers behind plus those next to the prompted frame; memories: 6 + 6 likewise
    assert outputs <= 2 * (max_ptrs - 1) + 1 + spare_frames
    assert with_features == 2 * (num_maskmem - 1) + 1 + spare_frames
    # the frames tracking reads next are all there
    track = session.track_state(1)
    for t in range(119 - (num_maskmem - 2), 120):
        assert track.non_cond[t].maskmem is not None
    for t in range(119 - (max_ptrs - 2), 120):
        assert t in track.non_cond
    # results stay (as RLE) for every frame
    assert len(session.object_results(1)) == 120


@pytest.mark.slow
def test_backward_pass_reads_the_forward_memories_next_to_the_start() -> None:
    """BOTH from frame s: the backward pass reads frames s+1.. of the forward pass; they are kept."""
    model = small_model(32)
    session = VideoSession(model, moving_square_video(50, 24, 32), spare_memory_mb=0)
    session.add_prompt(click(10, 1, 10, 12))
    for r in session.propagate(direction=Direction.FORWARD):
        pass
    track = session.track_state(1)
    for t in range(11, 11 + model.config.num_maskmem - 1):
        assert track.non_cond[t].maskmem is not None
    assert 49 in track.non_cond and 30 not in track.non_cond


@pytest.mark.slow
def test_a_correction_on_a_recent_frame_reads_the_same_memories_as_with_everything_kept() -> None:
    """Within the spare budget a correction click equals the official keep-everything behaviour."""
    model = small_model(32)
    results = []
    for spare_mb in (0.05, 1000.0):  # 0.05 MB: about 100 frames of this model
        session = VideoSession(model, moving_square_video(40, 24, 32), spare_memory_mb=spare_mb)
        session.add_prompt(click(0, 1, 10, 12))
        list(session.propagate(direction=Direction.FORWARD))
        session.keep_logits = True
        results.append(session.add_prompt(click(25, 1, 12, 12, positive=False)).objects[1].low_res_logits)
    tight = VideoSession(model, moving_square_video(40, 24, 32), spare_memory_mb=0)
    tight.add_prompt(click(0, 1, 10, 12))
    list(tight.propagate(direction=Direction.FORWARD))
    kept = tight.track_state(1).non_cond.get(20)
    assert kept is None or kept.maskmem is None  # not kept: a correction on 25 would read less
    assert results[0] is not None and (results[0] == results[1]).all()


ALLOCATOR_CHECK = r'''
import os
import core
import torch
from core.allocator import activations_on_heap, kept_tensor


def _rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _blocks(count, nbytes, pins):
    # torch blocks like the engine's, each followed by a small pin kept alive so that freeing
    # them cannot shrink the heap from its top
    blocks = []
    for _ in range(count):
        blocks.append(torch.ones(nbytes, dtype=torch.uint8))
        pins.append(torch.ones(4096, dtype=torch.uint8))
    return blocks


pins: list = []
assert activations_on_heap()
# Activations (over 1 MB too) come from the heap, whose freed pieces keep their pages for the
# next frame (below 2 MB: torch aligns larger blocks to 2 MB for huge pages, and whether such a
# block fits a freed hole then depends on where the hole starts).
frame = _blocks(16, 3 * 2**19, pins)
before = _rss_mb()
del frame
assert before - _rss_mb() < 8, (before, _rss_mb())

# Kept results never land in those free pieces, though they would fit: each has a mapping of
# its own, which leaves once the result is freed (a plain copy would take a heap piece, and
# freeing it would give nothing back).
kept = [kept_tensor(torch.ones(512 * 1024, dtype=torch.uint8)) for _ in range(40)]
before = _rss_mb()
del kept
assert before - _rss_mb() > 15, (before, _rss_mb())

assert all(p.all() for p in pins)
'''


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_allocator_keeps_kept_results_out_of_the_activations_heap() -> None:
    # In a fresh process: glibc serves a request from any free heap piece it fits, whatever the
    # threshold, so the free pieces earlier tests leave behind would decide the outcome here.
    done = subprocess.run(
        [sys.executable, "-c", ALLOCATOR_CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


THREAD_HEAP_CHECK = r'''
import ctypes, ctypes.util, resource, sys, threading
from core.allocator import activations_on_heap, one_heap
if sys.argv[1] == "one":
    assert one_heap()
assert activations_on_heap()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, (ctypes.c_size_t,), (ctypes.c_void_p,)
size, faults = 150 * 2**20, []  # as large as the tiny encoder's largest activation

def work():  # a thread that runs the encoder three times, as the model worker does
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)

thread = threading.Thread(target=work)
thread.start()
thread.join()
print(*faults)
'''


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_one_heap_lets_a_thread_reuse_the_pages_of_its_large_blocks() -> None:
    def faults(mode: str) -> list[int]:
        done = subprocess.run(
            [sys.executable, "-c", THREAD_HEAP_CHECK, mode], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return [int(n) for n in done.stdout.split()]

    pages = 150 * 2**20 // 4096
    # A thread's own heap cannot hold the block: it is mapped afresh and faults in every time.
    assert all(n > pages // 2 for n in faults("own"))
    # On the main heap the freed block keeps its pages for the next run.
    first, *later = faults("one")
    assert first > pages // 2 and all(n < pages // 20 for n in later)


def test_torch_advises_huge_pages_for_large_blocks() -> None:
    import torch

    # core (imported by conftest before torch) asks torch's allocator for transparent huge
    # pages: blocks of 2 MB and more then start on a page boundary instead of 64 bytes in.
    assert os.environ.get("THP_MEM_ALLOC_ENABLE") == "1"
    large = torch.empty(4 * 2**20, dtype=torch.uint8)
    assert large.data_ptr() % 4096 == 0


def test_warm_up_clicks_as_the_user_will(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from core.video import warm_up

    model = small_model()
    shapes, decoded, modes = [], [], []
    encode, decode = model.encode_image, model.sam_mask_decoder.forward
    monkeypatch.setattr(model, "encode_image", lambda x: shapes.append(tuple(x.shape)) or encode(x))
    monkeypatch.setattr(model.sam_mask_decoder, "forward", lambda *a, **k: decoded.append(1) or decode(*a, **k))
    monkeypatch.setattr("core.video.session.activations_on_heap", lambda: modes.append("heap") or True)
    warm_up(model, runs=2)
    size = model.image_size
    assert shapes == [(1, 3, size, size)] * 2  # a fresh session each time: no cached features
    assert len(decoded) == 2
    assert "heap" in modes
    assert not torch.is_inference_mode_enabled()


def test_activations_on_heap_sets_malloc_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from core import allocator as a

    calls: list[tuple] = []

    class Libc:  # records what the real one would be told
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(a, "_libc", Libc())
    monkeypatch.setattr(a, "_looked_up", True)
    monkeypatch.setattr(a, "_set", False)
    assert a.activations_on_heap()
    assert calls == [(a.M_TRIM_THRESHOLD, a.HEAP_TRIM_THRESHOLD), (a.M_MMAP_THRESHOLD, a.HEAP_THRESHOLD)]
    calls.clear()
    assert a.activations_on_heap()  # already so: nothing to tell
    assert calls == []


def test_kept_copies_are_equal_contiguous_and_independent() -> None:
    import numpy as np
    import torch

    from core.allocator import KEPT_MAPPING_BYTES, kept_array, kept_tensor

    big = torch.randn(2, 64, 32, 32)  # 512 kB: a mapping of its own
    assert big.numel() * 4 >= KEPT_MAPPING_BYTES
    view = big.permute(0, 2, 3, 1)
    copy = kept_tensor(view)
    assert copy.is_contiguous() and copy.shape == view.shape and torch.equal(copy, view)
    copy.add_(1)
    assert not torch.equal(copy, view)  # a copy, not a view of the source
    half = kept_tensor(big, torch.bfloat16)
    assert half.dtype == torch.bfloat16 and torch.equal(half, big.to(torch.bfloat16))
    small = kept_tensor(torch.tensor([True, False]))  # below the mapping size: a plain copy
    assert small.tolist() == [True, False]
    with torch.inference_mode():
        kept = kept_tensor(torch.randn(256, 256))
        kept.mul_(2)  # writable where the engine updates it
    frame = np.arange(540 * 960 * 3, dtype=np.uint32).astype(np.uint8).reshape(540, 960, 3)
    upright = kept_array(frame[::-1])
    assert upright.flags.c_contiguous and upright.flags.writeable
    assert np.array_equal(upright, frame[::-1])
    assert np.array_equal(kept_array(frame[:2, :2]), frame[:2, :2])


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc/self/maps")
def test_kept_copies_live_in_private_mappings() -> None:
    """Private anonymous memory, not Python's default for an anonymous mmap (shared: tmpfs pages,
    slower faults, and never merged with neighbouring mappings against vm.max_map_count)."""
    import numpy as np
    import torch

    from core.allocator import kept_array, kept_tensor

    def mapping_of(address: int) -> str:
        for line in Path("/proc/self/maps").read_text().splitlines():
            span, perms = line.split()[:2]
            start, end = (int(v, 16) for v in span.split("-"))
            if start <= address < end:
                return perms
        raise AssertionError(f"no mapping holds {address:#x}")

    kept = kept_tensor(torch.randn(256, 256))
    frame = kept_array(np.zeros((540, 960, 3), np.uint8))
    assert mapping_of(kept.data_ptr()) == "rw-p"
    assert mapping_of(frame.ctypes.data) == "rw-p"
