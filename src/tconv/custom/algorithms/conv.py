"""``conv``: the presets that keep the op linear, as ordinary convolutions.

``mul`` with ``sum`` is ``F.convNd`` itself. ``add`` and ``sub`` split into a box sum of the
window (a convolution with a weight of ones, one per group) plus or minus the sum of each output
channel's weight; ``mean`` divides by the window's (channel, tap) count. Autograd differentiates
them, so gradients are PyTorch's own.
"""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from ...core.algorithm import Algorithm
from ...kernels.ops import F_CONV
from ..plan import CustomPlan


class Conv(Algorithm[CustomPlan]):
    name = "conv"
    description = "combine 'mul', 'add' or 'sub' with reduce 'sum' or 'mean': ordinary convolutions (F.convNd)"

    def why_not(self, plan: CustomPlan) -> list[str]:
        reasons = super().why_not(plan)
        if not plan.linear:
            reasons.append(
                f"combine {plan.combine!r} with reduce {plan.reduce!r} is not a linear convolution (mul, add or sub "
                "with sum or mean)"
            )
        return reasons

    def run(self, plan: CustomPlan, input: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        padding = [begin for begin, _ in plan.padding]
        if plan.padding_mode != "zeros" or any(begin != end for begin, end in plan.padding):
            pads = [p for begin_end in reversed(plan.padding) for p in begin_end]
            input = F.pad(input, pads, mode="constant" if plan.padding_mode == "zeros" else plan.padding_mode)
            padding = 0
        conv = F_CONV[plan.ndim]
        if plan.combine == "mul" and plan.reduce == "sum":  # F.convNd itself, bias included: bit-identical
            return conv(input, weight, bias, plan.stride, padding, plan.dilation, plan.groups).contiguous(
                memory_format=plan.memory_format
            )
        if plan.combine == "mul":
            y = conv(input, weight, None, plan.stride, padding, plan.dilation, plan.groups)
        else:
            ones = weight.new_ones((plan.groups, *weight.shape[1:]))
            box = conv(input, ones, None, plan.stride, padding, plan.dilation, plan.groups)  # (N, g, *out)
            sums = weight.flatten(1).sum(1).view(plan.groups, -1, *(1,) * plan.ndim)  # (g, Og, 1...)
            y = (box.unsqueeze(2) + sums if plan.combine == "add" else box.unsqueeze(2) - sums).flatten(1, 2)
        if plan.reduce == "mean":
            y = y / plan.fan_in
        if bias is not None:
            y = y + bias.view(-1, *(1,) * plan.ndim)
        return y.contiguous(memory_format=plan.memory_format)
