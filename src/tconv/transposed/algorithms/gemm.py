"""``gemm``: one matrix product into columns, then a col2im scatter-add (``F.fold``).

Every input sample ``x[n, c, t]`` of group ``g`` adds ``x[n, c, t] * w[c, o, tap]`` to the full
output at ``t * stride + tap * dilation``. Summed over the group's input channels first, these are
the columns ``cols[n, g, (o, tap), t] = sum_c w[g, c, (o, tap)] * x[n, g, c, t]``: one batched
matrix product over samples and groups, with no zeros inserted and nothing to skip. ``F.fold``
(col2im) then adds each column into the output at its taps.

``F.fold`` crops symmetrically (its ``padding``) and takes the size after that crop as
``output_size``; it counts its blocks from that size, so the uncropped size may pass the full
output by ``stride - 1`` zeros at most. That is PyTorch's ``output_padding`` at dilation 1: the
window is split by :func:`~tconv.transposed.algorithms.native.torch_window` with that reach, and what is left
(an asymmetric crop, zeros past the end) is applied afterwards. The bias is added last, to every
sample of the window. ``F.fold`` is 2-d: 1-d problems run with a height-1 axis.
"""

from __future__ import annotations

import functools
import math
from typing import Optional

import torch
import torch.nn.functional as F

from ..plan import ConvTransposePlan
from .base import TransposedAlgorithm
from .native import TorchCall, finish_window, torch_call


class Gemm(TransposedAlgorithm):
    name = "gemm"
    description = "one batched matrix product into columns, then col2im (F.fold) scatter-adds them"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in (1, 2):
            reasons.append(f"col2im (F.fold) exists for 1 and 2 spatial axes only, not {plan.ndim}")
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        # fold's output_padding reaches stride - 1 whatever the dilation: PyTorch's at dilation 1
        call = torch_call(plan.windows, plan.stride, (1,) * plan.ndim)
        groups = plan.groups
        in_per_group = plan.in_channels // groups
        # every size spelled out: an empty batch leaves a -1 nothing to be inferred from
        samples, blocks = math.prod(plan.input_size), plan.out_channels // groups * math.prod(plan.kernel_size)
        columns = torch.matmul(
            weight.reshape(groups, in_per_group, blocks).transpose(1, 2),  # (G, out_per_group * taps, Cin/G)
            input.reshape(plan.batch, groups, in_per_group, samples),  # (N, G, Cin/G, input samples)
        )
        out = F.fold(columns.reshape(plan.batch, groups * blocks, samples), **_fold_arguments(plan, call))
        if plan.ndim == 1:
            out = out.squeeze(2)
        return finish_window(out, plan, call.crops, call.zeros, bias)


@functools.lru_cache(maxsize=4096)
def _fold_arguments(plan: ConvTransposePlan, call: TorchCall) -> dict:
    """F.fold's keywords, 2-d (a height-1 axis first for 1-d problems)."""

    def as_2d(values, fill: int = 1) -> tuple[int, ...]:
        return (fill,) * (2 - plan.ndim) + tuple(values)

    return dict(
        output_size=as_2d(w.full - 2 * p + op for w, p, op in zip(plan.windows, call.padding, call.output_padding)),
        kernel_size=as_2d(plan.kernel_size),
        dilation=as_2d(plan.dilation),
        padding=as_2d(call.padding, fill=0),
        stride=as_2d(plan.stride),
    )
