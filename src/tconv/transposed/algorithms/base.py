"""What every transposed-convolution algorithm offers: :class:`~tconv.core.algorithm.Algorithm`
over a :class:`~tconv.transposed.plan.ConvTransposePlan`, and one more way to run.

:meth:`TransposedAlgorithm.run_spread` runs the plan with its kernel given as a linear map of the
taps of a convolution weight. The fused ops reach the transposed family through it (and the
dispatcher), never through a concrete algorithm: the composed kernel of upsampling + conv is
such a map. By default the kernel is built and :meth:`~tconv.core.algorithm.Algorithm.run` runs;
an algorithm that can fold the map into its own weight (``subpixel``) overrides it.
"""

from __future__ import annotations

from typing import Optional

import torch

from ...core.algorithm import Algorithm
from ..plan import ConvTransposePlan


class TransposedAlgorithm(Algorithm[ConvTransposePlan]):
    """A transposed-convolution algorithm (weight ``(Cin, Cout // groups, *kernel_size)``)."""

    def run_spread(
        self,
        plan: ConvTransposePlan,
        input: torch.Tensor,
        conv_weight: torch.Tensor,
        spread: torch.Tensor,
        bias: Optional[torch.Tensor],
    ) -> torch.Tensor:
        """:meth:`run` with the kernel given as ``conv_weight`` and ``spread`` (:func:`spread_kernel`)."""
        return self.run(plan, input, spread_kernel(plan, conv_weight, spread), bias)


def spread_kernel(plan: ConvTransposePlan, conv_weight: torch.Tensor, spread: torch.Tensor) -> torch.Tensor:
    """The kernel ``(Cin, Cout // groups, *plan.kernel_size)`` that ``conv_weight``
    ``(Cout, Cin // groups, *k0)`` and ``spread`` ``(prod k0, prod plan.kernel_size)`` stand for:
    per group the channel-swapped weight's taps times ``spread``. Both may be in a wider dtype than
    the plan's (the kernel algebra runs in float32 for half precision); the kernel is cast to the
    plan's."""
    w = conv_weight.unflatten(0, (plan.groups, -1)).transpose(1, 2).flatten(0, 1)  # (Cin, Cout/g, *k0)
    return (w.flatten(2) @ spread).view(*w.shape[:2], *plan.kernel_size).to(plan.dtype)
