"""``unfold``: the usual recipe, every window expanded over the output channels.

The padded input's windows are gathered tap by tap into ``(N, *out, g, 1, *K, Cg)``, combined with
the weight ``(g, Og, *K, Cg)`` into the whole expanded tensor, flattened over the (tap, channel)
pairs and reduced; autograd differentiates it. It holds ``N * Cout * out * Cin/g * taps`` elements:
the baseline the fast algorithms are measured against. It runs only when forced.
"""

from __future__ import annotations

import itertools
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ...core.algorithm import Algorithm
from ..plan import CustomPlan
from ..presets import COMBINE, REDUCE


class Unfold(Algorithm[CustomPlan]):
    name = "unfold"
    description = (
        "the unfold-expand recipe: the whole expanded tensor at once, autograd through it (runs only when forced)"
    )
    auto = False

    def run(self, plan: CustomPlan, input: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        pads = [p for begin_end in reversed(plan.padding) for p in begin_end]
        x = F.pad(input, pads, mode="constant" if plan.padding_mode == "zeros" else plan.padding_mode)
        taps = []
        for offsets in itertools.product(*map(range, plan.kernel_size)):
            index = (
                slice(o * d, o * d + s * (n - 1) + 1, s)
                for o, d, s, n in zip(offsets, plan.dilation, plan.stride, plan.output_size)
            )
            taps.append(x[(slice(None), slice(None), *index)])  # (N, C, *out)
        patches = torch.stack(taps, dim=-1)  # (N, C, *out, taps)
        patches = patches.unflatten(1, (plan.groups, -1)).movedim((1, 2), (-3, -1))  # (N, *out, g, taps, Cg)
        w = weight.unflatten(0, (plan.groups, -1)).flatten(3).transpose(2, 3)  # (g, Og, taps, Cg)
        combine = COMBINE[plan.combine].differentiable if isinstance(plan.combine, str) else plan.combine
        t = combine(patches.unsqueeze(-3), w).flatten(-2)  # (N, *out, g, Og, taps * Cg)
        if plan.reduce in ("max", "min"):  # values and the index of the first winner, as the presets
            out = getattr(t, plan.reduce)(-1).values
        else:
            out = (REDUCE[plan.reduce].value if isinstance(plan.reduce, str) else plan.reduce)(t, -1)
        y = out.flatten(-2).movedim(-1, 1)
        if bias is not None:
            y = y + bias.view(-1, *(1,) * plan.ndim)
        return y.contiguous(memory_format=plan.memory_format)
