"""``reference``: the ``naive`` composition in float64, run only when forced.

It reads the padding from the plan like ``naive``, on float64 copies of the operands, and casts
the result back to the input dtype: for users who want the composition without low-precision
intermediates. The tests hold it, like every algorithm, to the definition in
:mod:`tconv.fused.reference`, which shares nothing with the plan.
"""

from __future__ import annotations

from typing import Optional

import torch

from ...core.algorithm import Algorithm
from ..plan import FusedPlan
from .naive import Naive


class Reference(Naive):
    name = "reference"
    description = "the plain composition in float64 (runs only when forced), cast back to the input dtype"
    auto = False

    def why_not(self, plan: FusedPlan) -> list[str]:
        return Algorithm.why_not(self, plan)  # float64 has every kernel naive may lack in the input dtype

    def run(
        self, plan: FusedPlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        wide = [None if t is None else t.double() for t in (input, weight, bias)]
        return super().run(plan, *wide).to(input.dtype)
