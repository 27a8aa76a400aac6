"""Rearranging kernel taps by per-axis tables (tensor work shared by the polyphase algorithms)."""

from __future__ import annotations

import functools
from typing import Sequence

import torch
import torch.nn.functional as F


@functools.lru_cache(maxsize=1024)
def _index(table: tuple[tuple[int, ...], ...], zero_tap: int, device: torch.device) -> torch.Tensor:
    return torch.tensor([zero_tap if tap < 0 else tap for row in table for tap in row], device=device)


def gather_taps(weight: torch.Tensor, tables: Sequence[tuple[tuple[int, ...], ...]]) -> torch.Tensor:
    """``weight (A, B, k1, …, kd)`` -> ``(A, B, r1, c1, …, rd, cd)``, the kernel axis ``a`` replaced
    by ``tables[a]`` (``r`` rows of ``c`` tap indices each; -1 takes a zero)."""
    ndim = weight.dim() - 2
    out = F.pad(weight, (0, 1) * ndim)  # index k of every kernel axis is a zero tap
    for axis, table in enumerate(tables):
        dim = 2 + 2 * axis
        index = _index(tuple(table), weight.shape[2 + axis], weight.device)
        out = out.index_select(dim, index).unflatten(dim, (len(table), len(table[0])))
    return out
