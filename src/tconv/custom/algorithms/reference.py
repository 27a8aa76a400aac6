"""``reference``: :func:`tconv.custom.reference.custom_conv_reference` (the definition, float64) as an algorithm.

It runs only when forced by name (``algorithm="reference"``): for comparing by hand, and for
``tconv check``. The plan hands it the public arguments back, the padding as ``(begin, end)``
pairs; the tests compare every other algorithm with the function itself, called with the
arguments as the caller gave them, so that the plan's padding rule is tested, not shared.
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from ...core.algorithm import Algorithm
from ..plan import CustomPlan
from ..reference import custom_conv_reference


class Reference(Algorithm[CustomPlan]):
    name = "reference"
    description = "the definition, index by index, in float64 (runs only when forced)"
    auto = False

    def run(self, plan: CustomPlan, input: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        out = custom_conv_reference(
            input,
            weight,
            bias,
            stride=plan.stride,
            padding=plan.padding,
            dilation=plan.dilation,
            groups=plan.groups,
            padding_mode=plan.padding_mode,
            combine=plan.combine,
            reduce=plan.reduce,
        )
        return out.to(input.dtype).contiguous(memory_format=plan.memory_format)
