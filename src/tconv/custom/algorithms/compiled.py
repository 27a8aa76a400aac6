"""``compiled``: the patch kernel compiled by ``torch.compile`` (inductor), once per problem.

The forward and backward of a chunk (:func:`.kernel.forward`, :func:`.kernel.backward`) are
compiled by :mod:`tconv.core.compiling` into fused loops that never store the expanded tensor, so
presets run as one chunk (but ``logsumexp``, see :data:`STORING`). Callables keep the plan's
chunks: what they do inside is theirs. :func:`tconv.set_compile` switches the algorithm off; a
problem whose compiling failed runs eagerly and is declined from then on.
"""

from __future__ import annotations

import functools

from torch import Tensor

from ...core import compiling
from ..plan import Chunk, CustomPlan
from . import kernel
from .kernel import Kernels, PatchAlgorithm

#: Reduce presets whose compiled backward stores a tensor of the expanded size (inductor keeps
#: logsumexp's softmax weights for its two reductions, measured): they keep the plan's chunks.
STORING = frozenset({"logsumexp"})


class CompiledKernels(Kernels):
    def chunks(self, itemsize: int) -> tuple[Chunk, ...]:
        one = self.plan.presets and self.plan.reduce not in STORING
        return self.plan.chunks(itemsize, bounded=not one)

    def forward(self, xp: Tensor, w: Tensor) -> Tensor:
        return compiling.run(self.plan, "forward", functools.partial(kernel.chunk_forward, self.plan), xp, w)

    def backward(self, xp: Tensor, w: Tensor, out: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
        return compiling.run(self.plan, "backward", functools.partial(kernel.chunk_backward, self.plan), xp, w, out, g)


class Compiled(PatchAlgorithm):
    name = "compiled"
    description = "the chunk kernels compiled by torch.compile (inductor): fused loops, no expanded tensor"
    compiles = True

    def why_not(self, plan: CustomPlan) -> list[str]:
        return super().why_not(plan) + compiling.why_not(plan, batch=plan.batch)

    def kernels(self, plan: CustomPlan) -> Kernels:
        return CompiledKernels(plan)
