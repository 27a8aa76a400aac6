"""``reference``: the unfold recipe in float64, the definition the custom algorithms are held to."""

from __future__ import annotations

from typing import Optional

from torch import Tensor

from .algorithms.unfold import Unfold
from .plan import CustomPlan


class Reference(Unfold):
    name = "reference"
    description = "the unfold-expand recipe in float64 (the definition; runs only when forced)"

    def run(self, plan: CustomPlan, input: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        wide = [None if t is None else t.double() for t in (input, weight, bias)]
        return super().run(plan, *wide).to(input.dtype)
