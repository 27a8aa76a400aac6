"""``nonoverlap``: kernels that do not overlap (``(k - 1) * dilation + 1 <= stride``, e.g. k = s).

Every input sample then writes its own block of ``stride`` output samples per axis, ``block[r] =
x * w[tap_of[r]]`` (the polyphase split of :class:`tconv.core.geometry.Polyphase` with one tap per
phase). With one input channel per group (depthwise) that is a single broadcast multiply-add whose
result already is the output's memory layout, ``(N, C, H, s, W, s)`` or channels-last
``(N, H, s, W, s, C)``; with more input channels per group it is one matrix product and one copy
into the output layout. Only the input rows the window needs are used. (On the CPU measured, the
channels-first interleave with an innermost stride of 2 runs far below memory speed: see
BENCHMARKS.md.)
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from ...core.geometry import effective_kernel
from ...kernels.taps import gather_taps
from ..plan import ConvTransposePlan
from .base import TransposedAlgorithm
from .native import finish_window


class Nonoverlap(TransposedAlgorithm):
    name = "nonoverlap"
    description = "kernel <= stride: one broadcast multiply (depthwise) or matrix product written as output blocks"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        for axis, (phase, k, s, d) in enumerate(zip(plan.phases, plan.kernel_size, plan.stride, plan.dilation)):
            if phase.taps > 1:
                reasons.append(
                    f"kernel blocks overlap on spatial axis {axis}: (kernel - 1) * dilation + 1 = "
                    f"{effective_kernel(k, d)} > stride {s}"
                )
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        axes, ndim = plan.phases, plan.ndim
        groups, out_per_group = plan.groups, plan.out_channels // plan.groups
        in_per_group = plan.in_channels // groups
        strides = [axis.stride for axis in axes]
        x = block_input(plan, input)
        rows = list(x.shape[2:])
        block = block_weight(plan, weight)

        # logical block dims: (N, g, Cout/g, r1, s1, ..., rd, sd); channels-last keeps them in
        # the order (N, r1, s1, ..., rd, sd, g, Cout/g) in memory
        interleaved = [d for a in range(ndim) for d in (3 + 2 * a, 4 + 2 * a)]
        order = [0, *interleaved, 1, 2] if plan.channels_last else list(range(3 + 2 * ndim))
        if in_per_group == 1:
            xb = x.unflatten(1, (groups, 1))
            wb = block.reshape(1, groups, out_per_group, *strides)
            for a in range(ndim):
                xb = xb.unsqueeze(4 + 2 * a)
                wb = wb.unsqueeze(3 + 2 * a)
            xb, wb = xb.permute(order), wb.permute(order)
            if bias is None:
                blocks = xb * wb
            else:
                blocks = torch.addcmul(bias.view(1, groups, out_per_group, *[1] * (2 * ndim)).permute(order), xb, wb)
        else:
            xm = x.unflatten(1, (groups, in_per_group)).flatten(3).transpose(2, 3)  # (N, g, R, Cin/g)
            products = torch.matmul(xm, block.flatten(2))  # (N, g, R, Cout/g * S)
            if bias is not None:
                products = products + bias.view(groups, 1, out_per_group, 1).expand(
                    -1, -1, -1, products.shape[-1] // out_per_group
                ).flatten(2)
            blocks = products.reshape(x.shape[0], groups, *rows, out_per_group, *strides)
            # (N, g, r1..rd, Cout/g, s1..sd) -> logical block dims
            logical = [0, 1, 2 + ndim, *[d for a in range(ndim) for d in (2 + a, 3 + ndim + a)]]
            blocks = blocks.permute(logical).permute(order).contiguous()

        flat_shape = [x.shape[0], *[r * s for r, s in zip(rows, strides)], plan.out_channels]
        if plan.channels_last:
            out = blocks.reshape(flat_shape).movedim(-1, 1)
        else:
            out = blocks.reshape(flat_shape[0], flat_shape[-1], *flat_shape[1:-1])
        return crop_to_window(plan, out)


def block_input(plan: ConvTransposePlan, input: torch.Tensor) -> torch.Tensor:
    """The input rows whose blocks the window touches, ``first_row … first_row + rows - 1`` per
    axis, with zeros for rows past the input."""
    x, zero_rows = input, []
    for dim, axis in enumerate(plan.phases, start=2):
        begin, end = (min(row, x.shape[dim]) for row in (axis.first_row, axis.first_row + axis.rows))
        if (begin, end) != (0, x.shape[dim]):
            x = x.narrow(dim, begin, end - begin)
        zero_rows.append(axis.rows - (end - begin))
    if any(zero_rows):
        x = F.pad(x, [amount for rows in reversed(zero_rows) for amount in (0, rows)])
    return x


def block_weight(plan: ConvTransposePlan, weight: torch.Tensor) -> torch.Tensor:
    """The block weight ``(g, Cin/g, Cout/g, s1, …, sd)``: phase ``r`` of each axis takes its one tap."""
    groups, axes = plan.groups, plan.phases
    if all(
        axis.tap_of == tuple((r,) for r in range(axis.stride)) for axis in axes
    ):  # kernel = stride: the weight itself
        block = weight
    else:
        block = gather_taps(weight, [axis.tap_of for axis in axes])
    return block.reshape(
        groups, plan.in_channels // groups, plan.out_channels // groups, *(axis.stride for axis in axes)
    )


def crop_to_window(plan: ConvTransposePlan, out: torch.Tensor) -> torch.Tensor:
    """Blocks ``(N, Cout, rows1 * s1, …)`` cover ``rows * stride`` samples from ``first_row *
    stride`` per axis: the window out of them."""
    crops = []
    for axis, window in zip(plan.phases, plan.windows):
        begin = window.begin - axis.first_row * axis.stride
        crops.append((begin, axis.rows * axis.stride - begin - window.length))
    return finish_window(out, plan, tuple(crops), (), None) if any(map(any, crops)) else out
