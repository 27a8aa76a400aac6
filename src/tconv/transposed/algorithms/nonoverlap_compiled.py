"""``nonoverlap_compiled``: kernels that do not overlap, channels-first, in compiled loops that
write the output at memory speed.

Where ``(k - 1) * dilation + 1 <= stride`` every input sample writes its own block (see
:mod:`.nonoverlap`). Channels-first, a block's row interleaves ``s`` samples on the innermost
axis, which PyTorch's kernels write far below memory speed. Here the ``s`` samples are computed
as ``s`` planes, each contiguous, and packed bit for bit into integer words (:mod:`tconv.kernels.packing`).
With one input channel per group it is one loop (broadcast multiply, bias and packing); with more,
one matrix product ``(Cout/g · S, Cin/g) @ (Cin/g, rows)`` per group and a loop packing its rows
into the output. The backward unpacks the output's gradient the same way and is compiled too
(first order only). Kernels are compiled per problem by :mod:`tconv.core.compiling` (seconds the first
time).
"""

from __future__ import annotations

import functools
import math
from typing import Optional, Sequence

import torch
from torch.autograd.function import once_differentiable

from ...core import compiling
from ...kernels.packing import pack, packing_reasons, unpack
from ..plan import ConvTransposePlan
from .nonoverlap import Nonoverlap, block_input, block_weight, crop_to_window


def _interleave(rows: Sequence[int], strides: Sequence[int]) -> list[int]:
    """``[r1, s1, r2, s2, …, rd]``: the block dims before the innermost axis's samples."""
    return [size for row, stride in zip(rows, strides) for size in (row, stride)] + [rows[-1]]


def _phase_major(block: torch.Tensor) -> torch.Tensor:
    """``(g, Cin/g, Cout/g, s1, …, sd)`` -> ``(g, Cout/g · S, Cin/g)``."""
    return block.movedim(1, -1).flatten(1, -2)


def forward(x: torch.Tensor, block: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Blocks ``(N, Cout, r1 · s1, …, rd · sd)`` of input rows ``x (N, Cin, r1, …, rd)``."""
    n, rows = x.shape[0], x.shape[2:]
    groups, in_per_group, out_per_group, *strides = block.shape
    ndim = len(strides)
    if in_per_group == 1:  # planes (N, g, Cout/g, r1, s1, …, rd) of a broadcast multiply
        xb = x.view(n, groups, 1, *_interleave(rows, [1] * (ndim - 1)))
        taps = block.view(1, groups, out_per_group, *_interleave([1] * ndim, strides[:-1]), strides[-1])
        planes = [xb * taps[..., b] for b in range(strides[-1])]
    else:
        y = torch.matmul(_phase_major(block), x.reshape(n, groups, in_per_group, -1))  # (N, g, Cout/g · S, R)
        y = y.view(n, groups, out_per_group, *strides, *rows)
        y = y.permute(0, 1, 2, *[dim for a in range(ndim) for dim in (3 + ndim + a, 3 + a)])
        planes = [y[..., b] for b in range(strides[-1])]
    if bias is not None:
        planes = [plane + bias.view(1, groups, out_per_group, *[1] * (2 * ndim - 1)) for plane in planes]
    return pack(planes).reshape(n, groups * out_per_group, *[r * s for r, s in zip(rows, strides)])


def backward(grad: torch.Tensor, x: torch.Tensor, block: torch.Tensor, *, with_bias: bool) -> tuple[torch.Tensor, ...]:
    """The gradients of :func:`forward`'s ``x``, ``block`` (and bias) for a contiguous ``grad``;
    16-bit dtypes sum in float32."""
    n, rows = x.shape[0], x.shape[2:]
    groups, in_per_group, out_per_group, *strides = block.shape
    ndim, dtype = len(strides), x.dtype
    exact = torch.float32 if dtype.itemsize < 4 else dtype
    blocks = grad.reshape(n, groups, out_per_group, *_interleave(rows, strides[:-1])[:-1], rows[-1] * strides[-1])
    planes = unpack(blocks, strides[-1]).to(exact)  # (N, g, Cout/g, r1, s1, …, rd, sd)
    row_dims = [3 + 2 * a for a in range(ndim)]
    stride_dims = [4 + 2 * a for a in range(ndim)]
    if in_per_group == 1:
        xb = x.view(n, groups, 1, *_interleave(rows, [1] * (ndim - 1)), 1).to(exact)
        taps = block.view(1, groups, out_per_group, *_interleave([1] * ndim, strides[:-1]), strides[-1]).to(exact)
        grad_x = (planes * taps).sum([2, *stride_dims])
        grad_block = (planes * xb).sum([0, *row_dims]).unsqueeze(1)
    else:
        gy = planes.permute(0, 1, 2, *stride_dims, *row_dims).reshape(n, groups, -1, math.prod(rows))
        xr = x.reshape(n, groups, in_per_group, -1).to(exact)
        grad_x = torch.matmul(_phase_major(block).to(exact).transpose(1, 2), gy)  # (N, g, Cin/g, R)
        grad_block = torch.matmul(gy, xr.transpose(2, 3)).sum(0)  # (g, Cout/g · S, Cin/g)
        grad_block = grad_block.view(groups, out_per_group, *strides, in_per_group).movedim(-1, 1)
    grads = (grad_x.reshape(x.shape).to(dtype), grad_block.to(dtype))
    return (*grads, planes.sum([0, *row_dims, *stride_dims]).flatten().to(dtype)) if with_bias else grads


def compiled_forward(
    plan: ConvTransposePlan, x: torch.Tensor, block: torch.Tensor, bias: Optional[torch.Tensor]
) -> torch.Tensor:
    if bias is None:  # the traced function takes exactly the tensors it is given
        return compiling.run(plan, "forward", functools.partial(forward, bias=None), x, block)
    return compiling.run(plan, "forward", forward, x, block, bias)


class _Blocks(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx, plan: ConvTransposePlan, x: torch.Tensor, block: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        ctx.plan, ctx.has_bias = plan, bias is not None
        ctx.save_for_backward(x, block)
        return compiled_forward(plan, x, block, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, block = ctx.saved_tensors
        function = functools.partial(backward, with_bias=ctx.has_bias)
        grad_x, grad_block, *grad_bias = compiling.run(
            ctx.plan, f"backward, bias {ctx.has_bias}", function, grad.contiguous(), x, block
        )
        return None, grad_x, grad_block, *(grad_bias or [None])


class NonoverlapCompiled(Nonoverlap):
    name = "nonoverlap_compiled"
    description = (
        "kernel <= stride, channels-first: compiled loops that pack each block row's samples into integer words"
    )
    device_types = frozenset({"cpu"})  # inductor's GPU code was never measured here
    compiles = True

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.channels_last:
            reasons.append("channels-last input: nonoverlap already writes its blocks with the channels innermost")
        return reasons + packing_reasons(plan.dtype, plan.stride[-1]) + compiling.why_not(plan, batch=plan.batch)

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        blocks = _Blocks.apply if plan.requires_grad else compiled_forward
        return crop_to_window(plan, blocks(plan, block_input(plan, input), block_weight(plan, weight), bias))
