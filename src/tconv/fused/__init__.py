"""Fused resampling convolutions: upsample + conv and conv + average pooling, exact at every border.

Design
------
Both ops are linear, and shift-invariant away from the borders, so each is one strided (transposed)
convolution of the *input* with a composed kernel: nearest or linear upsampling ×s is a
stride-``s`` transposed convolution with a box or tent kernel, and average pooling a stride-``P``
convolution with a box kernel, so the pair collapses into a single convolution that never builds
the ``s^d``-times larger intermediate tensor. The family's rooms are those of
:mod:`tconv.transposed`::

    upsample_convNd / conv_poolNd  ->  FusedPlan (plan.py: pure Python)  ->  algorithm  ->  result
    (functional.py)                    kernel algebra, border strips         (algorithms/*.py)

* :mod:`.plan` checks the arguments and reduces each axis to numbers: the taps of the composed
  kernel, and the outputs near each border (:attr:`~.plan.FusedAxis.strips`) whose window reads
  padding or an interpolation edge the composed kernel does not reproduce.
* ``composed`` runs the composed convolution (upsampling through the transposed family's
  dispatcher, :data:`tconv.transposed.DISPATCHER`, and its algorithms' ``run_spread``) and
  recomputes the strips exactly from the padded signal: work proportional to the perimeter. It
  cannot run ``align_corners=True``, whose sampling grid is not periodic. ``naive`` is the plain
  composition; the forcible ``reference`` algorithm is it in float64.
* ``factored`` is ``composed`` with the innermost axis's conv kernel taps as output channels of
  its convolution, summed into that axis's phases after it (a compiled pass in CPU inference):
  fewer channel mixes for nearest upsampling with short kernels.
* ``separable`` (2-d upsampling) upsamples and convolves along the width, mixing the channels at
  the input height, and finishes the height with one matrix product: exact for every mode,
  ``align_corners=True`` included, and the fastest for linear upsampling.
* :mod:`.preference` is the order ``"auto"`` tries them in; :mod:`.reference` is the definition
  written from the public arguments alone (importing nothing from tconv), and :mod:`.testing`
  draws random calls and compares every algorithm with it (the tests and ``tconv check``).
* :data:`DISPATCHER` chooses: a forced name, the first capable algorithm in the order of
  preference, or with autotuning on the measured fastest.
"""

from __future__ import annotations

from ..core.dispatch import Dispatcher
from . import preference
from .algorithms import FAST
from .algorithms.reference import Reference

DISPATCHER = Dispatcher(
    "fused", (*FAST, Reference()), preference.preference, preference.portable, portable_when_compiling=True
)
#: Every algorithm by name.
ALGORITHMS = DISPATCHER.algorithms
#: The dispatcher's old name.
FUSED = DISPATCHER

__all__ = ["ALGORITHMS", "DISPATCHER", "FUSED"]
