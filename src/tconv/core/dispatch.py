"""Dispatch: the algorithms of one op family, and how one of them is chosen for a plan.

Every op family (:mod:`tconv.transposed`, :mod:`tconv.fused`, :mod:`tconv.custom`) has one
:class:`Dispatcher`: its algorithms by name, an order of preference (the family's
``preference.py``) and a portable algorithm. A forced name runs that algorithm or raises with its
reasons; ``"auto"`` takes the first capable algorithm in the order of preference or, with
autotuning on (:mod:`.autotune`), the one measured fastest for the problem on this device; when
none can run, the error lists every algorithm's reasons. Plans are hashable, so decisions are
cached per plan. While a model is being exported (``torch.export``, ``torch.onnx.export``) or
traced (``torch.jit.trace``), ``"auto"`` takes the family's ``portable`` algorithm instead: one
made of standard operators that exporters and runtimes know. Families whose fast algorithms are
eager kernels (cached tables, strips written in place) take it under ``torch.compile`` too:
inductor fuses the plain composition itself, and those kernels would break its graph.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import torch

from . import autotune
from .algorithm import Algorithm
from .plan import TensorFacts

_DISPATCHERS: list[Dispatcher] = []

Tensors = tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]


def forget_decisions() -> None:
    """Clear every dispatcher's cached decisions (after a switch changed what algorithms can run)."""
    for dispatcher in _DISPATCHERS:
        dispatcher.decide.cache_clear()


class NoAlgorithmError(ValueError):
    """No algorithm can run a plan (or the forced one cannot); the message lists every reason."""


@dataclass(frozen=True)
class Choice:
    """Which algorithm runs a plan, how it was chosen, and why the others were not."""

    algorithm: Algorithm
    how: str  # "forced", "heuristic", "autotune cache" or "autotuned"
    reasons: dict[str, list[str]] = field(default_factory=dict)
    times: Optional[dict[str, float]] = None  # seconds, when autotuned now
    family: Mapping[str, Algorithm] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        lines = [f"algorithm {self.algorithm.name!r} ({self.how}): {self.algorithm.description}"]
        for name, why in self.reasons.items():
            if name == self.algorithm.name:
                continue
            if why:
                lines.append(f"  {name}: cannot run it: {'; '.join(why)}")
            elif not self.family[name].auto:
                lines.append(f"  {name}: could run it, but runs only when forced")
            elif self.times and name in self.times:
                ms, winner = self.times[name] * 1e3, self.times[self.algorithm.name] * 1e3
                lines.append(f"  {name}: could run it, {ms:.3f} ms against {winner:.3f} ms")
            else:
                order = "order of preference" if self.how == "heuristic" else "choice"
                lines.append(f"  {name}: could run it, but comes later in the {order}")
        return "\n".join(lines)


def _portable_now(when_compiling: bool) -> bool:
    return torch.compiler.is_exporting() or torch.jit.is_tracing() or (when_compiling and torch.compiler.is_compiling())


class Dispatcher:
    """The algorithms of one op family by name.

    Args:
        family: the family's name (``"transposed"``, ``"fused"``, ``"custom"``): the autotune
            cache's key begins with it.
        algorithms: every algorithm, in the order :func:`tconv.explain` lists them.
        preference: ``preference(plan)``: names, fastest expected first.
        portable: ``portable(plan)``: the name of the algorithm to export.
        portable_when_compiling: whether to take the portable one under ``torch.compile`` too.
    """

    def __init__(
        self,
        family: str,
        algorithms: Iterable[Algorithm],
        preference: Callable[[object], Sequence[str]],
        portable: Callable[[object], str],
        *,
        portable_when_compiling: bool,
    ) -> None:
        self.family = family
        self.algorithms: dict[str, Algorithm] = {algorithm.name: algorithm for algorithm in algorithms}
        self.preference = preference
        self.portable = portable
        self.portable_when_compiling = portable_when_compiling
        self.decide = functools.lru_cache(maxsize=4096)(self._decide)
        _DISPATCHERS.append(self)

    def get(self, name: str) -> Algorithm:
        try:
            return self.algorithms[name]
        except KeyError:
            legal = ", ".join(map(repr, ("auto", *self.algorithms)))
            raise ValueError(f"algorithm: unknown algorithm {name!r}; legal values are {legal}") from None

    def reasons(self, plan: TensorFacts) -> dict[str, list[str]]:
        """Every algorithm's reasons for not running ``plan`` (an empty list: it can)."""
        return {name: algorithm.why_not(plan) for name, algorithm in self.algorithms.items()}

    def select(
        self, plan: TensorFacts, algorithm: str = "auto", tensors: Union[Tensors, Callable[[], Tensors], None] = None
    ) -> Algorithm:
        """The algorithm that runs ``plan``: the forced one; for ``"auto"`` the portable one while
        exporting or tracing (or compiling, if so), the autotuned one when autotuning is on and
        the call's ``tensors`` (or a function returning them, called only then) are given, else
        the first capable one in the order of preference."""
        if algorithm == "auto":
            if _portable_now(self.portable_when_compiling):
                return self.get(self.portable(plan))
            if tensors is not None and autotune.autotune_enabled() and not torch.compiler.is_compiling():
                return self.choose(plan, algorithm, tensors).algorithm
        return self.decide(plan, algorithm).algorithm

    def choose(
        self, plan: TensorFacts, algorithm: str = "auto", tensors: Union[Tensors, Callable[[], Tensors], None] = None
    ) -> Choice:
        """The choice for ``plan`` with every reason. With autotuning on, ``"auto"`` and the call's
        ``tensors``, the capable algorithms are timed once on detached copies of them and the
        winner kept (in memory and on disk)."""
        choice = self.decide(plan, algorithm)
        if (
            choice.how == "forced"
            or tensors is None
            or not autotune.autotune_enabled()
            or torch.compiler.is_compiling()
        ):
            return choice
        input, weight, bias = tensors() if callable(tensors) else tensors
        cached = autotune.cached_winner(self.family, plan, input.device)
        if cached in self.algorithms and not choice.reasons[cached] and self.algorithms[cached].auto:
            return Choice(self.algorithms[cached], "autotune cache", choice.reasons, family=self.algorithms)
        grad = plan.requires_grad
        copies = [None if t is None else t.detach().requires_grad_(grad) for t in (input, weight, bias)]

        def run(name: str) -> None:
            with torch.set_grad_enabled(grad):
                out = self.algorithms[name].run(plan, *copies)
                if grad:
                    out.backward(torch.ones_like(out))

        candidates = [name for name, why in choice.reasons.items() if not why and self.algorithms[name].auto]
        winner, times = autotune.tune(self.family, plan, input.device, candidates, run)
        return Choice(self.algorithms[winner], "autotuned", choice.reasons, times, family=self.algorithms)

    def _decide(self, plan: TensorFacts, algorithm: str) -> Choice:
        if not isinstance(algorithm, str):
            raise TypeError(f"algorithm: expected 'auto' or an algorithm name; got {algorithm!r}")
        why = self.reasons(plan)
        if algorithm != "auto":
            chosen = self.get(algorithm)
            if why[algorithm]:
                raise NoAlgorithmError(
                    f"algorithm: {algorithm!r} cannot run this problem: " + "; ".join(why[algorithm])
                )
            return Choice(chosen, "forced", why, family=self.algorithms)
        for name in self.preference(plan):
            if name in self.algorithms and self.algorithms[name].auto and not why[name]:
                return Choice(self.algorithms[name], "heuristic", why, family=self.algorithms)
        listing = "; ".join(f"{name}: {', '.join(w) or 'runs only when forced'}" for name, w in why.items())
        raise NoAlgorithmError(f"algorithm: no algorithm can run this problem ({listing})")
