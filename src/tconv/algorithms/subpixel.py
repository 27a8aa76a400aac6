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

import itertools
import math
from typing import Optional

import torch
import torch.nn.functional as F

from ..geometry import Polyphase
from ..plan import CHANNELS_LAST, ConvTransposePlan
from .base import Algorithm
from .taps import gather_taps

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def phase_weight(weight: torch.Tensor, axes: tuple[Polyphase, ...], groups: int) -> torch.Tensor:
    """``(Cin, Cout/g, *k)`` -> the convolution weight ``(g * S * Cout/g, Cin/g, *taps)``, output
    channels ordered ``(group, phase..., channel)``."""
    ndim = len(axes)
    split = gather_taps(weight, [axis.tap_of for axis in axes]).unflatten(0, (groups, -1))
    # split: (g, Cin/g, Cout/g, s1, T1, ..., sd, Td)
    strides = [4 + 2 * a for a in range(ndim)]
    taps = [5 + 2 * a for a in range(ndim)]
    ordered = split.permute(0, *[s - 1 for s in strides], 2, 1, *[t - 1 for t in taps])
    return ordered.reshape(-1, weight.shape[0] // groups, *(axis.taps for axis in axes))


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
        axes = plan.phases
        groups, out_per_group = plan.groups, plan.out_channels // plan.groups
        x = input
        for dim, axis in enumerate(axes, start=2):  # crop input rows no window row needs
            if axis.pad_begin < 0 or axis.pad_end < 0:
                begin = max(0, -axis.pad_begin)
                x = x.narrow(dim, begin, x.shape[dim] - begin - max(0, -axis.pad_end))
        if plan.ndim in CHANNELS_LAST:
            x = x.contiguous(memory_format=CHANNELS_LAST[plan.ndim])
        padding = [max(axis.pad_begin, axis.pad_end, 0) for axis in axes]
        phase_count = math.prod(axis.stride for axis in axes)
        conv_bias = None if bias is None else bias.view(groups, 1, out_per_group).expand(-1, phase_count, -1).reshape(-1)
        y = _CONV[plan.ndim](x, phase_weight(weight, axes, groups), conv_bias, 1, padding, 1, groups)
        for dim, (axis, pad) in enumerate(zip(axes, padding), start=2):
            y = y.narrow(dim, pad - max(axis.pad_begin, 0), axis.rows)
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
