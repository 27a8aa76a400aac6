"""Custom convolutions: your own ``combine`` and ``reduce`` inside the kernel, at native speed.

Design
------
``out[n, o, p] = reduce over (c, tap) of combine(x_patch[n, c, p, tap], weight[o, c, tap]) + bias[o]``.
The usual recipe (``unfold``, expand over the output channels, combine, reduce) builds a tensor of
``N * Cout * positions * Cin/groups * taps`` elements. tconv takes the same path for data as the
rest of the package::

    custom_convNd  ->  CustomPlan (plan.py: pure Python)  ->  algorithm  ->  result
    (functional.py)    arguments, chunks within max_memory    (algorithms/*.py)

* :mod:`.presets` defines the preset functions and their hand-written derivatives.
* :mod:`.algorithms.kernel` is the patch kernel every non-linear algorithm shares: the padded input stored
  channels-last, its windows as a strided view (no copy), combine and reduce per chunk, and a
  backward that recomputes each chunk instead of storing the expanded tensor.
* ``conv``: the presets that stay linear (``mul``/``add``/``sub`` with ``sum``/``mean``) are
  ordinary convolutions; ``mul`` with ``sum`` *is* ``F.convNd``.
* ``compiled``: the kernel compiled by ``torch.compile`` into fused loops (seconds to compile
  per problem, then the fastest; :func:`tconv.set_compile` turns it off).
* ``chunked``: the kernel in eager PyTorch, chunk by chunk; runs everything.
* ``unfold`` (the recipe) runs only when forced, and so does ``reference``: :mod:`.reference`,
  the definition written index by index in float64, importing nothing from tconv, which the tests
  hold every algorithm to.
* :mod:`.preference` is the order ``"auto"`` tries them in; :data:`DISPATCHER` chooses (see
  :mod:`tconv.core.dispatch`); :mod:`.testing` holds the random problems the tests and
  ``tconv check`` share.
"""

from __future__ import annotations

from ..core.dispatch import Dispatcher
from . import preference
from .algorithms import FAST
from .algorithms.reference import Reference

DISPATCHER = Dispatcher(
    "custom", (*FAST, Reference()), preference.preference, preference.portable, portable_when_compiling=False
)
#: Every algorithm by name.
ALGORITHMS = DISPATCHER.algorithms
#: The dispatcher's old name.
CUSTOM = DISPATCHER

__all__ = ["ALGORITHMS", "CUSTOM", "DISPATCHER"]
