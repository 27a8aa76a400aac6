"""``subpixel`` (polyphase): one stride-1 convolution with ``stride^d * Cout`` output channels.

Each output phase (the samples ``j`` with ``j % stride == r`` per axis) of a transposed convolution
is a stride-1 correlation of the input with a subset of the kernel's taps (see
:class:`tconv.core.geometry.Polyphase`). All phases run as one grouped convolution whose output channels
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

from ...core.plan import CHANNELS_LAST, channels_last_unreliable
from ...kernels.ops import F_CONV
from ...kernels.phases import conv_axis, convolve, phase_taps, phase_weight, tap_product
from ..plan import ConvTransposePlan
from .base import TransposedAlgorithm


def folded_phase_weight(plan: ConvTransposePlan, conv_weight: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """:func:`phase_weight` of ``plan``'s kernel given as ``conv_weight.flatten(2) @ spread`` laid
    out ``(Cin, Cout/g, *k)``, from a convolution weight ``(Cout, Cin/g, *k0)`` and ``spread``
    ``(prod k0, prod k)``: the spread folded into the phases' taps, one product, no transposes."""
    taps = spread @ phase_taps(plan.phases, tuple(plan.kernel_size), spread.dtype, spread.device)
    return tap_product(conv_weight.unflatten(0, (plan.groups, -1)), taps, [axis.taps for axis in plan.phases])


class Subpixel(TransposedAlgorithm):
    name = "subpixel"
    description = "all output phases as one stride-1 convolution (stride^d × Cout channels), then depth-to-space"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in F_CONV:
            return reasons + [f"PyTorch has convolutions for 1 to 3 spatial axes, not {plan.ndim}"]
        for axis, (size, phase) in enumerate(zip(plan.input_size, plan.phases)):
            if size + min(phase.pad_begin, 0) + min(phase.pad_end, 0) < 1:
                reasons.append(f"the window on spatial axis {axis} lies beyond every input sample's reach")
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        return self.run_phases(plan, input, phase_weight(weight, plan.phases, plan.groups), bias)

    def run_spread(
        self,
        plan: ConvTransposePlan,
        input: torch.Tensor,
        conv_weight: torch.Tensor,
        spread: torch.Tensor,
        bias: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """The spread folded into the phase weight (:func:`folded_phase_weight`): no kernel built."""
        return self.run_phases(plan, input, folded_phase_weight(plan, conv_weight, spread).to(plan.dtype), bias)

    def run_phases(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """:meth:`run` given the phase weight (:func:`phase_weight`) instead of the kernel."""
        axes = plan.phases
        groups, out_per_group = plan.groups, plan.out_channels // plan.groups
        unreliable = channels_last_unreliable(plan)
        if unreliable and plan.channels_last:
            input = input.contiguous()  # computed channels-first, written channels-last
        y, firsts = phase_conv(plan, input, weight, bias, channels_last=plan.ndim in CHANNELS_LAST and not unreliable)
        for dim, (axis, first) in enumerate(zip(axes, firsts), start=2):
            y = y.narrow(dim, first, axis.rows)
        y = y.unflatten(1, (groups, *(axis.stride for axis in axes), out_per_group))

        out = torch.empty(plan.output_shape, dtype=y.dtype, device=y.device, memory_format=plan.memory_format)
        grouped = out.unflatten(1, (groups, out_per_group))
        for phase in itertools.product(*(range(axis.stride) for axis in axes)):
            samples = [axis.phase_samples(r) for axis, r in zip(axes, phase)]
            if any(count == 0 for _, _, count in samples):
                continue
            target = tuple(
                slice(first, first + (count - 1) * axis.stride + 1, axis.stride)
                for (first, _, count), axis in zip(samples, axes)
            )
            source = tuple(slice(row, row + count) for _, row, count in samples)
            grouped[(slice(None), slice(None), slice(None), *target)] = y[
                (slice(None), slice(None), *phase, slice(None), *source)
            ]
        return out


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
    plan: ConvTransposePlan,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor],
    *,
    channels_last: bool,
) -> tuple[torch.Tensor, list[int]]:
    """Every phase as one convolution with the phase weight ``weight`` (:func:`phase_weight`):
    ``(N, g * S * Cout/g, ...)``, channels ordered ``(group, phase..., channel)``, and per axis the
    index of row ``first_row`` in it (the convolution pads symmetrically, so it may compute rows
    the window does not need at one end)."""
    geometry = [conv_axis(axis) for axis in plan.phases]
    phase_count = math.prod(axis.stride for axis in plan.phases)
    groups, out_per_group = plan.groups, plan.out_channels // plan.groups
    conv_bias = None if bias is None else bias.view(groups, 1, out_per_group).expand(-1, phase_count, -1).reshape(-1)
    y = convolve(input, weight, conv_bias, geometry, plan.groups, channels_last=channels_last)
    return y, [pad - max(axis.pad_begin, 0) for axis, (_, _, pad) in zip(plan.phases, geometry)]
