"""The block worker threads: every block once, single-threaded workers, the caller's modes, errors."""

from __future__ import annotations

import threading

import pytest
import torch

from core.sam2 import cpu_pool
from core.sam2.cpu_attention import chunked_attention


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_every_block_runs_once_on_single_threaded_workers(two_threads):
    seen: list[tuple[int, str, int]] = []
    lock = threading.Lock()

    def block(i: int) -> None:
        with lock:
            seen.append((i, threading.current_thread().name, torch.get_num_threads()))

    cpu_pool.run_blocks(block, range(20))
    assert sorted(i for i, _, _ in seen) == list(range(20))
    assert all(name.startswith("masklet-block") for _, name, _ in seen)
    assert {threads for _, _, threads in seen} == {1}
    assert torch.get_num_threads() == 2  # the caller keeps its count


def test_threads_started_later_keep_torchs_count(two_threads):
    cpu_pool.run_blocks(lambda i: None, range(4))
    counts = []
    t = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert counts == [2]


def test_one_thread_runs_blocks_in_order_on_the_caller():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        order: list[tuple[int, str]] = []
        cpu_pool.run_blocks(lambda i: order.append((i, threading.current_thread().name)), range(5))
    finally:
        torch.set_num_threads(before)
    assert order == [(i, threading.current_thread().name) for i in range(5)]


def test_errors_reach_the_caller(two_threads):
    def block(i: int) -> None:
        if i == 3:
            raise ValueError("block 3")

    with pytest.raises(ValueError, match="block 3"):
        cpu_pool.run_blocks(block, range(6))


def test_workers_run_in_the_callers_inference_and_grad_modes(two_threads):
    modes: list[tuple[bool, bool]] = []
    with torch.inference_mode():
        cpu_pool.run_blocks(lambda i: modes.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled())),
                            range(4))
    with torch.no_grad():
        cpu_pool.run_blocks(lambda i: modes.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled())),
                            range(4))
    assert modes[:4] == [(True, False)] * 4 and modes[4:] == [(False, False)] * 4


def test_blocked_attention_is_the_same_on_one_and_two_threads():
    torch.manual_seed(0)
    q, k = torch.randn(3, 1, 1000, 32), torch.randn(3, 1, 3000, 32)
    v = torch.randn(3, 1, 3000, 16)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = chunked_attention(q, k, v, block_bytes=4 * 128 * 512)  # 8 blocks of 128 queries per entry
        torch.set_num_threads(2)
        with torch.inference_mode():
            two = chunked_attention(q, k, v, block_bytes=4 * 128 * 512)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(one, two)
    want = torch.softmax(q @ k.transpose(-2, -1) / 32**0.5, dim=-1) @ v
    torch.testing.assert_close(two, want, atol=1e-5, rtol=1e-5)
