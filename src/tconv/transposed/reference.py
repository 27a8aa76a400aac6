"""``reference``: the definition of a transposed convolution, in float64, written for clarity.

Every input sample ``x[n, c, t]`` adds ``x[n, c, t] * w[c, o, m]`` to the full output at
``t * stride + m * dilation``, for every tap ``m`` and every output channel ``o`` of its group. The
full output is zero-extended as far as the window needs, the window is cut out and the bias added.
Gradients come from autograd. It shares no code with the fast paths but the plan.
"""

from __future__ import annotations

import itertools
from typing import Optional

import torch

from .algorithms.base import TransposedAlgorithm
from .plan import ConvTransposePlan


def reference_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the reference computes in: float64, or complex128 for complex inputs."""
    return torch.complex128 if dtype.is_complex else torch.float64


def conv_transpose_reference(
    plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
) -> torch.Tensor:
    """The planned transposed convolution in float64 (complex128 for complex inputs)."""
    dtype = reference_dtype(plan.dtype)
    x, w = input.to(dtype), weight.to(dtype)
    in_per_group = plan.in_channels // plan.groups
    out_per_group = plan.out_channels // plan.groups
    extended = [max(window.full, window.end) for window in plan.windows]
    full = torch.zeros(plan.batch, plan.out_channels, *extended, dtype=dtype, device=input.device)

    for tap in itertools.product(*(range(k) for k in plan.kernel_size)):
        landing = tuple(
            slice(m * d, m * d + (i - 1) * s + 1, s)
            for m, d, s, i in zip(tap, plan.dilation, plan.stride, plan.input_size)
        )
        for g in range(plan.groups):
            ins = slice(g * in_per_group, (g + 1) * in_per_group)
            outs = slice(g * out_per_group, (g + 1) * out_per_group)
            contribution = torch.einsum("nc...,co->no...", x[:, ins], w[(ins, slice(None), *tap)])
            full[(slice(None), outs, *landing)] += contribution

    window = tuple(slice(w.begin, w.end) for w in plan.windows)
    out = full[(slice(None), slice(None), *window)]
    if bias is not None:
        out = out + bias.to(dtype).view(-1, *(1,) * plan.ndim)
    return out


class Reference(TransposedAlgorithm):
    name = "reference"
    description = "the float64 definition (slow; for testing), cast back to the input dtype"
    auto = False

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        out = conv_transpose_reference(plan, input, weight, bias).to(plan.dtype)
        return out.contiguous(memory_format=plan.memory_format)
