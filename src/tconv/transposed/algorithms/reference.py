"""``reference``: the float64 definition as an algorithm, for ``algorithm="reference"`` only.

It runs :func:`tconv.transposed.reference.conv_transpose_reference` with arguments rebuilt from the
plan: each axis's window as an explicit ``(begin, 0)`` padding and its length as ``output_size``,
so it computes what the plan says, right or wrong. That makes it the forcible slow, exact path
(and a check of the other algorithms' plumbing), not a check of the plan: the tests hold every
algorithm to the function, called with the public arguments, never to this class.
"""

from __future__ import annotations

from typing import Optional

import torch

from ..plan import ConvTransposePlan
from ..reference import conv_transpose_reference
from .base import TransposedAlgorithm


class Reference(TransposedAlgorithm):
    name = "reference"
    description = "the float64 definition (slow; for testing), cast back to the input dtype"
    auto = False

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        out = conv_transpose_reference(
            input,
            weight,
            bias,
            stride=plan.stride,
            padding=tuple((window.begin, 0) for window in plan.windows),
            groups=plan.groups,
            dilation=plan.dilation,
            output_size=plan.output_size,
        )
        return out.to(plan.dtype).contiguous(memory_format=plan.memory_format)
