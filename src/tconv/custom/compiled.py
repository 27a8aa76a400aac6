"""``compiled``: the patch kernel compiled by ``torch.compile`` (inductor), once per problem.

The forward and backward of a chunk (:func:`.kernel.forward`, :func:`.kernel.backward`) are traced
with ``make_fx`` and compiled into fused loops that never store the expanded tensor, so presets
run as one chunk (but ``logsumexp``, see :data:`STORING`). Callables keep the plan's chunks: what
they do inside is theirs. Each traced graph has its own code, so every problem has its own
compiled kernel (no shared recompile limit); kernels are cached per plan, role and argument
layout. Compiling takes seconds the first time a problem is seen; :func:`set_compile` switches
the algorithm off. If compiling a problem fails, that problem runs eagerly (with a warning) and
``compiled`` declines it from then on.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict
from typing import Callable

import torch
from torch import Tensor
from torch.fx.experimental.proxy_tensor import make_fx

from . import kernel
from .kernel import Kernels, PatchAlgorithm
from .plan import Chunk, CustomPlan

_state = {"enabled": True}
_failed: dict[CustomPlan, str] = {}
_compiled: OrderedDict[tuple, Callable] = OrderedDict()
_lock = threading.Lock()
CACHE_SIZE = 256


def set_compile(enabled: bool) -> None:
    """Switch the ``compiled`` custom-convolution algorithm on (the default) or off: off, ``auto``
    does not pick it and forcing it raises :class:`~tconv.NoAlgorithmError`."""
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled: expected True or False; got {enabled!r}")
    _state["enabled"] = enabled
    _forget_decisions()


def _forget_decisions() -> None:
    from . import CUSTOM  # the dispatcher caches what why_not said

    CUSTOM.decide.cache_clear()


def compile_enabled() -> bool:
    return _state["enabled"]


#: Reduce presets whose compiled backward stores a tensor of the expanded size (inductor keeps
#: logsumexp's softmax weights for its two reductions, measured): they keep the plan's chunks.
STORING = frozenset({"logsumexp"})


class CompiledKernels(Kernels):
    def chunks(self, itemsize: int) -> tuple[Chunk, ...]:
        one = self.plan.presets and self.plan.reduce not in STORING
        return self.plan.chunks(itemsize, bounded=not one)

    def forward(self, xp: Tensor, w: Tensor) -> Tensor:
        return self._run(kernel.chunk_forward, xp, w)

    def backward(self, xp: Tensor, w: Tensor, out: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
        return self._run(kernel.chunk_backward, xp, w, out, g)

    def _run(self, function: Callable, *args: Tensor):
        eager = functools.partial(function, self.plan)
        if self.plan in _failed or torch.compiler.is_compiling():  # an outer compile traces the eager kernel
            return eager(*args)
        key = (self.plan, function.__name__, *((a.shape, a.stride(), a.dtype, a.device) for a in args))
        with _lock:
            compiled = _compiled.get(key)
        if compiled is None:
            try:
                with warnings.catch_warnings():  # the compiler's own notices must not fail it under -W error
                    warnings.simplefilter("ignore")
                    graph = make_fx(eager, tracing_mode="fake")(*args)
                    compiled = torch.compile(graph, fullgraph=True, dynamic=False)
                    result = compiled(*args)
            except Exception as error:  # noqa: BLE001 - any failure of the compiler falls back to eager
                reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                _failed[self.plan] = reason
                _forget_decisions()
                warnings.warn(f"tconv: compiling a custom convolution failed ({reason}); running it eagerly", RuntimeWarning, stacklevel=2)
                return eager(*args)
            with _lock:
                _compiled[key] = compiled
                while len(_compiled) > CACHE_SIZE:
                    _compiled.popitem(last=False)
            return result
        return compiled(*args)


class Compiled(PatchAlgorithm):
    name = "compiled"
    description = "the chunk kernels compiled by torch.compile (inductor): fused loops, no expanded tensor"

    def why_not(self, plan: CustomPlan) -> list[str]:
        reasons = super().why_not(plan)
        if not _state["enabled"]:
            reasons.append("compiling is switched off (tconv.set_compile(False))")
        if plan in _failed:
            reasons.append(f"compiling this problem failed: {_failed[plan]}")
        return reasons

    def kernels(self, plan: CustomPlan) -> Kernels:
        return CompiledKernels(plan)
