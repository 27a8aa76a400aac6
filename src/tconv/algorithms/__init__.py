"""The algorithms and the dispatcher that picks one for a plan.

Each algorithm lives in its own module and declares, through ``why_not``, what it cannot run.
``select`` takes a forced name (raising with that algorithm's reasons when it cannot run the plan)
or, for ``"auto"``, the first capable algorithm in :data:`ALGORITHMS` order.
"""

from __future__ import annotations

import functools

from .base import Algorithm
from .native import Native
from .reference import Reference

ALGORITHMS: dict[str, Algorithm] = {algorithm.name: algorithm for algorithm in (Native(), Reference())}


class NoAlgorithmError(ValueError):
    """No algorithm can run a plan (or the forced one cannot); the message lists every reason."""


def get(name: str) -> Algorithm:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"algorithm: unknown algorithm {name!r}; legal values are 'auto', {', '.join(map(repr, ALGORITHMS))}") from None


def reasons(plan) -> dict[str, list[str]]:
    """Every algorithm's reasons for not running ``plan`` (an empty list: it can)."""
    return {name: algorithm.why_not(plan) for name, algorithm in ALGORITHMS.items()}


@functools.lru_cache(maxsize=4096)
def select(plan, algorithm: str = "auto") -> Algorithm:
    """The algorithm that runs ``plan``: the forced one, or the first capable one for ``"auto"``."""
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm: expected 'auto' or an algorithm name; got {algorithm!r}")
    if algorithm != "auto":
        chosen = get(algorithm)
        why = chosen.why_not(plan)
        if why:
            raise NoAlgorithmError(f"algorithm: {algorithm!r} cannot run this problem: " + "; ".join(why))
        return chosen
    for candidate in ALGORITHMS.values():
        if candidate.auto and not candidate.why_not(plan):
            return candidate
    listing = "; ".join(f"{name}: {', '.join(why) or 'runs only when forced'}" for name, why in reasons(plan).items())
    raise NoAlgorithmError(f"algorithm: no algorithm can run this problem ({listing})")


__all__ = ["ALGORITHMS", "Algorithm", "NoAlgorithmError", "get", "reasons", "select"]
