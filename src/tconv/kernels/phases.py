"""Polyphase building blocks: a transposed convolution's output phases as stride-1 convolutions.

Each output phase of a transposed convolution (the samples ``j`` with ``j % stride == r`` per
axis) is a stride-1 correlation of the input with a subset of the kernel's taps (see
:class:`tconv.core.geometry.Polyphase`). These helpers build the phases' convolution weight from
a kernel (one matrix product with one-hot tap tables), run the convolution on the rows the window
needs, and say which convolution row holds each output residue. The transposed family's
``subpixel`` algorithms and the fused family's ``factored`` share them.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Optional, Sequence

import torch

from ..core.geometry import Polyphase
from ..core.plan import CHANNELS_LAST
from .ops import F_CONV


def phase_weight(weight: torch.Tensor, axes: tuple[Polyphase, ...], groups: int) -> torch.Tensor:
    """``(Cin, Cout/g, *k)`` -> the convolution weight ``(g * S * Cout/g, Cin/g, *taps)``, output
    channels ordered ``(group, phase..., channel)``: one matrix product per phase with a one-hot
    matrix of its taps (a gather with the phases moved first took 6x as long)."""
    in_channels, _, *kernel = weight.shape
    w = weight.unflatten(0, (groups, -1)).transpose(1, 2)  # (g, Cout/g, Cin/g, *k), copied once by tap_product
    return tap_product(w, phase_taps(axes, tuple(kernel), weight.dtype, weight.device), [axis.taps for axis in axes])


def tap_product(w: torch.Tensor, taps: torch.Tensor, kernel: Sequence[int]) -> torch.Tensor:
    """``w`` ``(g, Cout/g, Cin/g, *k)`` times ``taps`` ``(P, prod k, prod kernel)``: the
    convolution weight ``(g * P * Cout/g, Cin/g, *kernel)``."""
    groups, _, in_per_group = w.shape[:3]
    return torch.matmul(w.reshape(groups, 1, -1, taps.shape[1]), taps).reshape(-1, in_per_group, *kernel)


def phase_taps(
    axes: Sequence[Polyphase], kernel: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """``(S, prod kernel, prod taps)``: 1 where phase ``s``'s slot takes kernel tap ``k``."""
    return _phase_taps(tuple(axis.tap_of for axis in axes), kernel, dtype, device)


@functools.lru_cache(maxsize=256)
def _phase_taps(
    tables: tuple[tuple[tuple[int, ...], ...], ...], kernel: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    taps = torch.zeros(
        *(len(table) for table in tables), math.prod(kernel), *(len(table[0]) for table in tables), dtype=torch.float64
    )
    for phase in itertools.product(*(range(len(table)) for table in tables)):
        for slot in itertools.product(*(range(len(table[0])) for table in tables)):
            tap = [table[r][v] for table, r, v in zip(tables, phase, slot)]
            if min(tap) >= 0:
                flat = functools.reduce(lambda index, axis: index * axis[1] + axis[0], zip(tap, kernel), 0)
                taps[(*phase, flat, *slot)] = 1
    return taps.reshape(math.prod(len(table) for table in tables), math.prod(kernel), -1).to(dtype=dtype, device=device)


def conv_axis(axis: Polyphase) -> tuple[int, int, int]:
    """One axis of the phases' convolution (:func:`convolve`): input rows cropped at the begin and
    the end (rows no window row needs), and the symmetric padding of the convolution."""
    return max(0, -axis.pad_begin), max(0, -axis.pad_end), max(axis.pad_begin, axis.pad_end, 0)


def residue_rows(
    axes: Sequence[Polyphase], firsts: Sequence[int]
) -> dict[tuple[int, ...], tuple[tuple[int, ...], tuple[int, ...]]]:
    """Per output residue ``(j % stride per axis)``: its phase and the convolution row of its
    first sample (``firsts``: per axis the row of ``first_row``)."""
    per_axis = []
    for axis, first in zip(axes, firsts):
        entries = {}
        for phase in range(axis.stride):
            residue, row, _ = axis.phase_samples(phase)
            entries[residue] = (phase, first + row)
        per_axis.append(entries)
    return {
        residues: tuple(zip(*(entries[q] for entries, q in zip(per_axis, residues))))
        for residues in itertools.product(*(range(axis.stride) for axis in axes))
    }


def convolve(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor],
    geometry: Sequence[tuple[int, int, int]],
    groups: int,
    *,
    channels_last: bool,
) -> torch.Tensor:
    """The stride-1 convolution of ``input`` cropped and padded per axis as ``geometry`` says
    (:func:`conv_axis`'s triples)."""
    x = input
    for dim, (crop_begin, crop_end, _) in enumerate(geometry, start=2):
        if crop_begin or crop_end:
            x = x.narrow(dim, crop_begin, x.shape[dim] - crop_begin - crop_end)
    if channels_last:
        x = x.contiguous(memory_format=CHANNELS_LAST[x.dim() - 2])
    return F_CONV[x.dim() - 2](x, weight, bias, 1, [pad for _, _, pad in geometry], 1, groups)
