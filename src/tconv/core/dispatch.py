"""Dispatch: the algorithms of one op family, and how one of them is chosen for a plan.

Each op family (transposed convolutions in :mod:`tconv.algorithms`, fused resampling convolutions
in :mod:`tconv.fused`, custom convolutions in :mod:`tconv.custom`) has a :class:`Dispatcher`: its
algorithms by name and an order of preference. A forced name runs that algorithm or raises with
its reasons; ``"auto"`` takes the first capable algorithm in the order of preference; when none
can run, the error lists every algorithm's reasons. Plans are hashable, so decisions are cached
per plan. While a model is being exported (``torch.export``, ``torch.onnx.export``), ``"auto"``
takes the family's ``portable`` algorithm instead: one made of standard operators that exporters
and runtimes know. Families whose fast algorithms are eager kernels (cached tables, strips
written in place) take it under ``torch.compile`` too: inductor fuses the plain composition
itself, and those kernels would break its graph.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Optional, Sequence

import torch

if TYPE_CHECKING:
    from .algorithms.base import Algorithm


_DISPATCHERS: list[Dispatcher] = []


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
                lines.append(f"  {name}: could run it, {self.times[name] * 1e3:.3f} ms against {self.times[self.algorithm.name] * 1e3:.3f} ms")
            else:
                lines.append(f"  {name}: could run it, but comes later in the {'order of preference' if self.how == 'heuristic' else 'choice'}")
        return "\n".join(lines)


class Dispatcher:
    """The algorithms of one op family by name, ``preference(plan)``: names, fastest first,
    ``portable(plan)``: the name of the algorithm to export, and whether to take it under
    ``torch.compile`` as well."""

    def __init__(
        self,
        algorithms: Iterable[Algorithm],
        preference: Callable[[object], Sequence[str]],
        portable: Callable[[object], str],
        *,
        portable_when_compiling: bool,
    ) -> None:
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

    def reasons(self, plan: object) -> dict[str, list[str]]:
        """Every algorithm's reasons for not running ``plan`` (an empty list: it can)."""
        return {name: algorithm.why_not(plan) for name, algorithm in self.algorithms.items()}

    def select(self, plan: object, algorithm: str = "auto") -> Algorithm:
        """The algorithm for ``plan`` without measuring: the forced one, the portable one while
        exporting or tracing with ``torch.jit`` (or compiling, if so), or the first capable one."""
        if algorithm == "auto" and (
            torch.compiler.is_exporting()
            or torch.jit.is_tracing()
            or (self.portable_when_compiling and torch.compiler.is_compiling())
        ):
            return self.get(self.portable(plan))
        return self.decide(plan, algorithm).algorithm

    def _decide(self, plan: object, algorithm: str) -> Choice:
        if not isinstance(algorithm, str):
            raise TypeError(f"algorithm: expected 'auto' or an algorithm name; got {algorithm!r}")
        why = self.reasons(plan)
        if algorithm != "auto":
            chosen = self.get(algorithm)
            if why[algorithm]:
                raise NoAlgorithmError(f"algorithm: {algorithm!r} cannot run this problem: " + "; ".join(why[algorithm]))
            return Choice(chosen, "forced", why, family=self.algorithms)
        for name in self.preference(plan):
            if name in self.algorithms and self.algorithms[name].auto and not why[name]:
                return Choice(self.algorithms[name], "heuristic", why, family=self.algorithms)
        listing = "; ".join(f"{name}: {', '.join(w) or 'runs only when forced'}" for name, w in why.items())
        raise NoAlgorithmError(f"algorithm: no algorithm can run this problem ({listing})")
