"""The algorithms and the dispatcher that picks one for a plan.

Each algorithm lives in its own module and declares, through ``why_not``, what it cannot run.
:func:`choose` takes a forced name (raising with that algorithm's reasons when it cannot run the
plan) or, for ``"auto"``, the autotuned winner when autotuning is on (:mod:`.autotune`), else the
first capable algorithm in the order of :func:`.heuristics.preference`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from ..plan import ConvTransposePlan
from . import autotune, heuristics
from .base import Algorithm
from .gemm import Gemm
from .native import Native
from .native_channels_last import NativeChannelsLast
from .nonoverlap import Nonoverlap
from .reference import Reference
from .subpixel import Subpixel

ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm for algorithm in (Native(), NativeChannelsLast(), Nonoverlap(), Subpixel(), Gemm(), Reference())
}


class NoAlgorithmError(ValueError):
    """No algorithm can run a plan (or the forced one cannot); the message lists every reason."""


@dataclass(frozen=True)
class Choice:
    """Which algorithm runs a plan, how it was chosen, and why the others were not."""

    algorithm: Algorithm
    how: str  # "forced", "heuristic", "autotune cache" or "autotuned"
    reasons: dict[str, list[str]] = field(default_factory=dict)
    times: Optional[dict[str, float]] = None  # seconds, when autotuned now

    def __str__(self) -> str:
        lines = [f"algorithm {self.algorithm.name!r} ({self.how}): {self.algorithm.description}"]
        for name, why in self.reasons.items():
            if name == self.algorithm.name:
                continue
            if why:
                lines.append(f"  {name}: cannot run it: {'; '.join(why)}")
            elif not ALGORITHMS[name].auto:
                lines.append(f"  {name}: could run it, but runs only when forced")
            elif self.times and name in self.times:
                lines.append(f"  {name}: could run it, {self.times[name] * 1e3:.3f} ms against {self.times[self.algorithm.name] * 1e3:.3f} ms")
            else:
                lines.append(f"  {name}: could run it, but comes later in the {'order of preference' if self.how == 'heuristic' else 'choice'}")
        return "\n".join(lines)


def get(name: str) -> Algorithm:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"algorithm: unknown algorithm {name!r}; legal values are 'auto', {', '.join(map(repr, ALGORITHMS))}") from None


def reasons(plan: ConvTransposePlan) -> dict[str, list[str]]:
    """Every algorithm's reasons for not running ``plan`` (an empty list: it can)."""
    return {name: algorithm.why_not(plan) for name, algorithm in ALGORITHMS.items()}


@functools.lru_cache(maxsize=4096)
def _choose_without_measuring(plan: ConvTransposePlan, algorithm: str) -> Choice:
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm: expected 'auto' or an algorithm name; got {algorithm!r}")
    why = reasons(plan)
    if algorithm != "auto":
        chosen = get(algorithm)
        if why[algorithm]:
            raise NoAlgorithmError(f"algorithm: {algorithm!r} cannot run this problem: " + "; ".join(why[algorithm]))
        return Choice(chosen, "forced", why)
    for name in heuristics.preference(plan):
        if name in ALGORITHMS and ALGORITHMS[name].auto and not why[name]:
            return Choice(ALGORITHMS[name], "heuristic", why)
    listing = "; ".join(f"{name}: {', '.join(w) or 'runs only when forced'}" for name, w in why.items())
    raise NoAlgorithmError(f"algorithm: no algorithm can run this problem ({listing})")


def choose(
    plan: ConvTransposePlan,
    algorithm: str = "auto",
    *,
    device: Optional[torch.device] = None,
    run: Optional[Callable[[str], None]] = None,
) -> Choice:
    """The algorithm for ``plan``. With autotuning on, ``"auto"`` and a ``run(name)`` that runs the
    problem with a named algorithm, the capable algorithms are timed once and the winner kept."""
    choice = _choose_without_measuring(plan, algorithm)
    if choice.how == "forced" or run is None or device is None or not autotune.autotune_enabled() or torch.compiler.is_compiling():
        return choice
    cached = autotune.cached_winner(plan, device)
    if cached in ALGORITHMS and not choice.reasons[cached]:
        return Choice(ALGORITHMS[cached], "autotune cache", choice.reasons)
    candidates = [name for name, why in choice.reasons.items() if not why and ALGORITHMS[name].auto]
    winner, times = autotune.tune(plan, device, candidates, run)
    return Choice(ALGORITHMS[winner], "autotuned", choice.reasons, times)


def select(plan: ConvTransposePlan, algorithm: str = "auto") -> Algorithm:
    """The algorithm :func:`choose` takes without measuring."""
    return _choose_without_measuring(plan, algorithm).algorithm


__all__ = ["ALGORITHMS", "Algorithm", "Choice", "NoAlgorithmError", "choose", "get", "reasons", "select"]
