"""Transposed convolutions in every framework's padding vocabulary.

The family's rooms, the same in :mod:`tconv.fused` and :mod:`tconv.custom`:

* :mod:`.functional`: the public ops (``conv_transpose1d/2d/3d``) and ``explain``;
* :mod:`.plan`: every argument checked, every axis reduced to its window (pure Python; the
  window model itself is :mod:`tconv.core.geometry`);
* :mod:`.algorithms`: one file per algorithm, each declaring what it cannot run;
* :mod:`.preference`: the order ``"auto"`` tries them in, from measurements;
* :mod:`.reference`: the float64 definition from the public arguments alone (it imports nothing
  from tconv), which the tests hold every algorithm to;
* :mod:`.testing`: random problems and their comparison with the reference (the tests and
  ``tconv check`` share them).

:data:`DISPATCHER` (:class:`tconv.core.dispatch.Dispatcher`) chooses: a forced name, the first
capable algorithm in the order of preference, or with autotuning on the measured fastest.
The fused ops reach this family through it and the algorithms' declared interface
(:class:`.algorithms.TransposedAlgorithm`), never through a concrete algorithm.
"""

from __future__ import annotations

from ..core.dispatch import Choice, Dispatcher, NoAlgorithmError
from . import preference
from .algorithms import FAST, Reference, TransposedAlgorithm, spread_kernel

DISPATCHER = Dispatcher(
    "transposed", (*FAST, Reference()), preference.preference, preference.portable, portable_when_compiling=True
)
#: Every algorithm by name.
ALGORITHMS: dict[str, TransposedAlgorithm] = DISPATCHER.algorithms
#: The old names of the dispatcher and its methods (``tconv.algorithms.TRANSPOSED``, ``get``, ...).
TRANSPOSED = DISPATCHER
get = DISPATCHER.get
reasons = DISPATCHER.reasons
select = DISPATCHER.select
choose = DISPATCHER.choose
Algorithm = TransposedAlgorithm

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "Choice",
    "DISPATCHER",
    "NoAlgorithmError",
    "TRANSPOSED",
    "TransposedAlgorithm",
    "choose",
    "get",
    "reasons",
    "select",
    "spread_kernel",
]
