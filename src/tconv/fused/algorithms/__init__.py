"""The fused algorithms, one file each, in the order :func:`tconv.explain` lists them (the
forcible ``reference``, :mod:`.reference`, comes last; the dispatcher adds it)."""

from __future__ import annotations

from ...core.algorithm import Algorithm
from .composed import Composed
from .factored import Factored
from .naive import Naive
from .separable import Separable

FAST: tuple[Algorithm, ...] = (Composed(), Factored(), Separable(), Naive())

__all__ = ["FAST"]
