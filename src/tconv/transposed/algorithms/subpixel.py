"""``subpixel`` (polyphase): one stride-1 convolution with ``stride^d * Cout`` output channels.

Each output phase (the samples ``j`` with ``j % stride == r`` per axis) of a transposed convolution
is a stride-1 correlation of the input with a subset of the kernel's taps (see
:class:`tconv.geometry.Polyphase`). All phases run as one grouped convolution whose output channels
are ``(group, phase, Cout // groups)``, on the rows the window needs only; a depth-to-space copy
then writes each phase into its samples of the window. No multiplications by inserted zeros, no
rows outside the window (but zero taps where ``kernel % stride != 0``). The convolution runs
channels-last, the layout oneDNN's convolutions ran fastest in on the CPU measured.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from ..geometry import Polyphase
from ..plan import CHANNELS_LAST, ConvTransposePlan
from .base import Algorithm

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def phase_weight(weight: torch.Tensor, axes: tuple[Polyphase, ...], groups: int) -> torch.Tensor:
    """``(Cin, Cout/g, *k)`` -> the convolution weight ``(g * S * Cout/g, Cin/g, *taps)``, output
    channels ordered ``(group, phase..., channel)``: one matrix product per phase with a one-hot
    matrix of its taps (a gather with the phases moved first took 6x as long)."""
    in_channels, _, *kernel = weight.shape
    w = weight.unflatten(0, (groups, -1)).transpose(1, 2)  # (g, Cout/g, Cin/g, *k), copied once by tap_product
    return tap_product(w, phase_taps(axes, tuple(kernel), weight.dtype, weight.device), [axis.taps for axis in axes])


def folded_phase_weight(plan: ConvTransposePlan, conv_weight: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """:func:`phase_weight` of ``plan``'s kernel given as ``conv_weight.flatten(2) @ spread`` laid
    out ``(Cin, Cout/g, *k)``, from a convolution weight ``(Cout, Cin/g, *k0)`` and ``spread``
    ``(prod k0, prod k)``: the spread folded into the phases' taps, one product, no transposes."""
    taps = spread @ phase_taps(plan.phases, tuple(plan.kernel_size), spread.dtype, spread.device)
    return tap_product(conv_weight.unflatten(0, (plan.groups, -1)), taps, [axis.taps for axis in plan.phases])


def tap_product(w: torch.Tensor, taps: torch.Tensor, kernel: Sequence[int]) -> torch.Tensor:
    """``w`` ``(g, Cout/g, Cin/g, *k)`` times ``taps`` ``(P, prod k, prod kernel)``: the
    convolution weight ``(g * P * Cout/g, Cin/g, *kernel)``."""
    groups, _, in_per_group = w.shape[:3]
    return torch.matmul(w.reshape(groups, 1, -1, taps.shape[1]), taps).reshape(-1, in_per_group, *kernel)


def phase_taps(axes: Sequence[Polyphase], kernel: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(S, prod kernel, prod taps)``: 1 where phase ``s``'s slot takes kernel tap ``k``."""
    return _phase_taps(tuple(axis.tap_of for axis in axes), kernel, dtype, device)


@functools.lru_cache(maxsize=256)
def _phase_taps(tables: tuple[tuple[tuple[int, ...], ...], ...], kernel: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    taps = torch.zeros(*(len(table) for table in tables), math.prod(kernel), *(len(table[0]) for table in tables), dtype=torch.float64)
    for phase in itertools.product(*(range(len(table)) for table in tables)):
        for slot in itertools.product(*(range(len(table[0])) for table in tables)):
            tap = [table[r][v] for table, r, v in zip(tables, phase, slot)]
            if min(tap) >= 0:
                flat = functools.reduce(lambda index, axis: index * axis[1] + axis[0], zip(tap, kernel), 0)
                taps[(*phase, flat, *slot)] = 1
    return taps.reshape(math.prod(len(table) for table in tables), math.prod(kernel), -1).to(dtype=dtype, device=device)


class Subpixel(Algorithm):
    name = "subpixel"
    description = "all output phases as one stride-1 convolution (stride^d × Cout channels), then depth-to-space"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in _CONV:
            return reasons + [f"PyTorch has convolutions for 1 to 3 spatial axes, not {plan.ndim}"]
        for axis, (size, phase) in enumerate(zip(plan.input_size, plan.phases)):
            if size + min(phase.pad_begin, 0) + min(phase.pad_end, 0) < 1:
                reasons.append(f"the window on spatial axis {axis} lies beyond every input sample's reach")
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        return self.run_phases(plan, input, phase_weight(weight, plan.phases, plan.groups), bias)

    def run_phases(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """:meth:`run` given the phase weight (:func:`phase_weight`) instead of the kernel."""
        axes = plan.phases
        groups, out_per_group = plan.groups, plan.out_channels // plan.groups
        y, firsts = phase_conv(plan, input, weight, bias, channels_last=plan.ndim in CHANNELS_LAST)
        for dim, (axis, first) in enumerate(zip(axes, firsts), start=2):
            y = y.narrow(dim, first, axis.rows)
        y = y.unflatten(1, (groups, *(axis.stride for axis in axes), out_per_group))

        out = torch.empty(plan.output_shape, dtype=y.dtype, device=y.device, memory_format=plan.memory_format)
        grouped = out.unflatten(1, (groups, out_per_group))
        for phase in itertools.product(*(range(axis.stride) for axis in axes)):
            samples = [axis.phase_samples(r) for axis, r in zip(axes, phase)]
            if any(count == 0 for _, _, count in samples):
                continue
            target = tuple(slice(first, first + (count - 1) * axis.stride + 1, axis.stride) for (first, _, count), axis in zip(samples, axes))
            source = tuple(slice(row, row + count) for _, row, count in samples)
            grouped[(slice(None), slice(None), slice(None), *target)] = y[(slice(None), slice(None), *phase, slice(None), *source)]
        return out


def conv_axis(axis: Polyphase) -> tuple[int, int, int]:
    """One axis of :func:`phase_conv`: input rows cropped at the begin and the end (rows no window
    row needs), and the symmetric padding of the convolution."""
    return max(0, -axis.pad_begin), max(0, -axis.pad_end), max(axis.pad_begin, axis.pad_end, 0)


def extra_work(plan: ConvTransposePlan) -> float:
    """:func:`phase_conv`'s multiplications over the transposed convolution's (1 when every phase
    has all its taps and the convolution computes only the rows the window needs)."""
    ratio = 1.0
    for size, kernel, axis in zip(plan.input_size, plan.kernel_size, plan.phases):
        crop_begin, crop_end, padding = conv_axis(axis)
        rows = size - crop_begin - crop_end + 2 * padding - axis.taps + 1
        ratio *= axis.stride * axis.taps * rows / (kernel * size)
    return ratio


def phase_conv(
    plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], *, channels_last: bool
) -> tuple[torch.Tensor, list[int]]:
    """Every phase as one convolution with the phase weight ``weight`` (:func:`phase_weight`):
    ``(N, g * S * Cout/g, ...)``, channels ordered ``(group, phase..., channel)``, and per axis the
    index of row ``first_row`` in it (the convolution pads symmetrically, so it may compute rows
    the window does not need at one end)."""
    geometry = [conv_axis(axis) for axis in plan.phases]
    phase_count = math.prod(axis.stride for axis in plan.phases)
    groups, out_per_group = plan.groups, plan.out_channels // plan.groups
    conv_bias = None if bias is None else bias.view(groups, 1, out_per_group).expand(-1, phase_count, -1).reshape(-1)
    y = convolve(plan, input, weight, conv_bias, geometry, channels_last=channels_last)
    return y, [pad - max(axis.pad_begin, 0) for axis, (_, _, pad) in zip(plan.phases, geometry)]


def convolve(
    plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
    geometry: Sequence[tuple[int, int, int]], *, channels_last: bool,
) -> torch.Tensor:
    """The stride-1 convolution of ``input`` cropped and padded per axis as ``geometry`` says
    (:func:`conv_axis`'s triples)."""
    x = input
    for dim, (crop_begin, crop_end, _) in enumerate(geometry, start=2):
        if crop_begin or crop_end:
            x = x.narrow(dim, crop_begin, x.shape[dim] - crop_begin - crop_end)
    if channels_last:
        x = x.contiguous(memory_format=CHANNELS_LAST[plan.ndim])
    return _CONV[plan.ndim](x, weight, bias, 1, [pad for _, _, pad in geometry], 1, plan.groups)
