"""``chunked``: the patch kernel in eager PyTorch, one memory-bounded chunk at a time.

Runs every combine and reduce, presets and callables, on every device: the always-available path.
Each chunk builds its expanded tensor with broadcasting ops and frees it before the next; the
backward recomputes it (see :mod:`.kernel`).
"""

from __future__ import annotations

from ..plan import CustomPlan
from .kernel import Kernels, PatchAlgorithm


class Chunked(PatchAlgorithm):
    name = "chunked"
    description = "eager broadcasting ops on chunks within max_memory, recomputed in the backward"

    def kernels(self, plan: CustomPlan) -> Kernels:
        return Kernels(plan)
