"""Softmax attention for large key sets on CPU, in blocks of queries and keys (online softmax).

The memory attention of SAM 2 attends 4,096 queries to about 28,700 memory tokens per object
and layer. ``F.scaled_dot_product_attention`` on CPU cannot exploit that the values are a linear
map of 64-channel memories: ``softmax(S) (M W^T + b) = (softmax(S) M) W^T + b`` because every
softmax row sums to one, so the second product needs 64 channels instead of 256.

Numerically this is the same attention up to float reassociation (about 1e-7 on unit-scale
inputs). The scores are kept in base-2 units (the query scale carries log2 e), so the kernel
exponentiates with ``exp2``, which on CPU takes about half the time of ``exp`` for the same
result: ``e^x = 2^(x log2 e)``. Scores more than ``_EXP_FLOOR`` (natural units) below their
row's maximum are raised to it before the exponential: their weight (< 4e-18 each) is far below
float32 resolution next to the maximum's weight of 1, and denormal exponentials cost up to five
times the time of normal ones on CPU.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from core.sam2.cpu_pool import run_blocks, scratch

# A block of scores of 1 MB, and enough blocks (8 for 4,096 queries) for the worker threads to
# share them out when one of them loses its core for a while.
_BLOCK_BYTES = 1024 * 1024
_KEY_BLOCK = 512
_EXP_FLOOR = -40.0
_LOG2_E = 1.0 / math.log(2.0)
_EXP2_FLOOR = _EXP_FLOOR * _LOG2_E  # the same floor in the base-2 units of the scores


def chunked_attention(q: Tensor, k: Tensor, v: Tensor, block_bytes: int = _BLOCK_BYTES) -> Tensor:
    """softmax(q k^T / sqrt(D)) v with an online softmax over blocks of queries and keys.

    q: (B, H, Nq, D), k: (B, H, Nk, D), v: (B, H or 1, Nk, Dv), all float32 -> (B, H, Nq, Dv).
    The values may have a different channel count than q and k, and one head may be shared.
    Each block of scores (about ``block_bytes``) stays in cache while it is exponentiated,
    summed and multiplied: the full (Nq, Nk) scores would be streamed through memory four times.
    Blocks of queries are independent: each runs its whole walk over the keys on one worker
    thread with single-threaded operations (``core.sam2.cpu_pool``), so the threads meet once
    per call instead of at each of the thousands of small operations, which is what keeps this
    kernel fast when another program takes a core.
    """
    b, h, nq, d = q.shape
    nk, dv = k.shape[-2], v.shape[-1]
    # The scale (and log2 e, for exp2) goes on the queries (several times fewer than the keys);
    # the keys are read through a transposed view, which the matrix product takes without a copy.
    q3 = (q * (_LOG2_E / math.sqrt(d))).reshape(b, h, nq, d)
    kt = k.reshape(b, h, nk, d).transpose(-2, -1)
    v3 = v.expand(b, h, nk, dv)
    out = q.new_empty(b, h, nq, dv)
    kb = min(nk, _KEY_BLOCK)
    qb = max(16, min(nq, block_bytes // (4 * h * kb)))

    def query_block(item: tuple[int, int]) -> None:
        i, qs = item
        n = min(nq, qs + qb) - qs
        _attend_block(q3[i, :, qs : qs + n], kt[i], v3[i], out[i, :, qs : qs + n], kb)

    run_blocks(query_block, [(i, qs) for i in range(b) for qs in range(0, nq, qb)])
    return out


def _attend_block(qc: Tensor, kt: Tensor, v3: Tensor, acc: Tensor, kb: int) -> None:
    """One block of queries against every key, in blocks of ``kb`` keys; the result into ``acc``.

    qc: (H, n, D) queries scaled to base-2 scores, kt: (H, D, Nk), v3: (H, Nk, Dv), acc: (H, n, Dv) written.
    The score buffer is the thread's scratch; the statistics are allocated once per block.
    """
    h, n = qc.shape[0], qc.shape[1]
    nk = kt.shape[-1]
    scores = scratch(h * n * kb, qc)
    row_max, row_sum, new_max, rescale = qc.new_empty(4, h, n, 1)  # running max and sum, block max, rescale
    for ks in range(0, nk, kb):
        m = min(nk, ks + kb) - ks
        s = scores[: h * n * m].view(h, n, m)
        torch.bmm(qc, kt[..., ks : ks + m], out=s)
        if ks == 0:
            torch.amax(s, dim=-1, keepdim=True, out=row_max)
            s.sub_(row_max).clamp_min_(_EXP2_FLOOR).exp2_()
            torch.sum(s, dim=-1, keepdim=True, out=row_sum)
            torch.bmm(s, v3[:, ks : ks + m], out=acc)
            continue
        torch.amax(s, dim=-1, keepdim=True, out=new_max)
        torch.maximum(row_max, new_max, out=new_max)
        torch.sub(row_max, new_max, out=rescale).exp2_()
        row_max.copy_(new_max)
        s.sub_(row_max).clamp_min_(_EXP2_FLOOR).exp2_()
        row_sum.mul_(rescale).add_(s.sum(dim=-1, keepdim=True))
        acc.mul_(rescale).baddbmm_(s, v3[:, ks : ks + m])
    acc.div_(row_sum)


def attention_with_low_rank_values(q: Tensor, k: Tensor, memory: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """Attention whose values are ``memory @ weight^T + bias``, split into heads.

    q: (B, H, Nq, Dh), k: (B, H, Nk, Dh), memory: (B, Nk, C), weight: (H * Dh, C), bias (H * Dh,)
    -> (B, H, Nq, Dh). Worth it when C < Dh: the second product runs on C channels.
    """
    heads, dh = q.shape[1], q.shape[-1]
    pooled = chunked_attention(q, k, memory.unsqueeze(1))  # (B, H, Nq, C)
    w = weight.reshape(heads, dh, -1)
    out = torch.matmul(pooled, w.transpose(-2, -1).unsqueeze(0))
    if bias is not None:
        out = out + bias.reshape(1, heads, 1, dh)
    return out


def use_chunked(q: Tensor, nk: int, low_rank_values: bool = False) -> bool:
    """Whether this attention should take the blocked CPU path: float32 on CPU, many keys.

    With 64-channel values to project afterwards (the cross-attention to memories) it is the
    faster one from a single memory frame on (4,100 keys: 75 against 96 ms); with full values
    the library kernel is as fast below about 8,000 keys (the self-attention has 4,096). On
    GPUs the library kernel always is.
    """
    if q.device.type != "cpu" or q.dtype != torch.float32:
        return False
    return low_rank_values or nk >= 8192
