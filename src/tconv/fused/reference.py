"""``reference``: the plain composition in float64, the definition the fused algorithms are held to.

``F.interpolate``, the padding as ``nn.ConvNd`` pads, ``F.convNd``, ``F.avg_poolNd``, exactly as
``naive`` runs them, on float64 copies of the operands, cast back.
"""

from __future__ import annotations

from typing import Optional

import torch

from .algorithms.naive import Naive
from .plan import FusedPlan


class Reference(Naive):
    name = "reference"
    description = "the plain composition in float64 (the definition; runs only when forced)"
    auto = False

    def run(
        self, plan: FusedPlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        wide = [None if t is None else t.double() for t in (input, weight, bias)]
        return super().run(plan, *wide).to(input.dtype)
