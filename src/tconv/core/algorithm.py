"""What every algorithm is: a name, what it supports (as readable reasons why not), and a run."""

from __future__ import annotations

from typing import ClassVar, Optional

import torch

from ..plan import ConvTransposePlan


class Algorithm:
    """One way to compute a planned transposed convolution.

    Subclasses set ``name`` and ``description``, extend :meth:`why_not` with the reasons a plan is
    out of their reach, and implement :meth:`run`. ``auto`` is False for algorithms that only run
    when forced by name (the reference); ``compiles`` marks algorithms whose kernels
    :mod:`tconv.compiling` compiles per problem (seconds the first time).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    auto: ClassVar[bool] = True
    compiles: ClassVar[bool] = False
    device_types: ClassVar[frozenset[str]] = frozenset({"cpu", "cuda"})

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        """Readable reasons this algorithm cannot run ``plan``; empty when it can."""
        if plan.device_type not in self.device_types:
            return [f"device type {plan.device_type!r} is not one of {sorted(self.device_types)}"]
        return []

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """Compute the output ``(N, Cout, *plan.output_size)`` for a batched ``input``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<tconv algorithm {self.name!r}>"
