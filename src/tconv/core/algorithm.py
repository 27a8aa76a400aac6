"""What every algorithm is: a name, what it supports (as readable reasons why not), and a run.

An algorithm of any family (transposed, fused, custom) is a small class over that family's plan.
It declares what it cannot run as readable reasons (:meth:`Algorithm.why_not`), so that the
dispatcher (:mod:`tconv.core.dispatch`) can choose, explain and refuse, and the tests can be
generated from the declarations. A family's own base class may declare more ways to run, with a
default every algorithm inherits and some override: the transposed family's ``run_spread``
(:class:`tconv.transposed.algorithms.TransposedAlgorithm`), through which the fused ops hand it
their composed kernel as a linear map of the conv kernel.
"""

from __future__ import annotations

from typing import ClassVar, Generic, Optional, TypeVar

import torch

from .plan import TensorFacts

Plan = TypeVar("Plan", bound=TensorFacts)


class Algorithm(Generic[Plan]):
    """One way to compute a planned call of a family.

    Subclasses set ``name`` and ``description``, extend :meth:`why_not` with the reasons a plan is
    out of their reach, and implement :meth:`run`. ``auto`` is False for algorithms that only run
    when forced by name (the references); ``compiles`` marks algorithms whose kernels
    :mod:`tconv.core.compiling` compiles per problem (seconds the first time).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    auto: ClassVar[bool] = True
    compiles: ClassVar[bool] = False
    device_types: ClassVar[frozenset[str]] = frozenset({"cpu", "cuda"})

    def why_not(self, plan: Plan) -> list[str]:
        """Readable reasons this algorithm cannot run ``plan``; empty when it can."""
        if plan.device_type not in self.device_types:
            return [f"device type {plan.device_type!r} is not one of {sorted(self.device_types)}"]
        return []

    def run(self, plan: Plan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> torch.Tensor:
        """Compute the output ``plan.output_shape`` for a batched ``input``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<tconv algorithm {self.name!r}>"
