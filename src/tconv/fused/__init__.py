"""Fused resampling convolutions: upsample + conv and conv + average pooling, exact at every border.

Design
------
Both ops are linear, and shift-invariant away from the borders, so each is one strided (transposed)
convolution of the *input* with a composed kernel: nearest or linear upsampling ×s is a
stride-``s`` transposed convolution with a box or tent kernel, and average pooling a stride-``P``
convolution with a box kernel, so the pair collapses into a single convolution that never builds
the ``s^d``-times larger intermediate tensor. Same data path as the rest of tconv::

    upsample_convNd / conv_poolNd  ->  FusedPlan (plan.py: pure Python)  ->  algorithm  ->  result
    (functional.py)                    kernel algebra, border strips         (composed.py, naive.py)

* :mod:`.plan` checks the arguments and reduces each axis to numbers: the taps of the composed
  kernel, and the outputs near each border (:attr:`~.plan.FusedAxis.strips`) whose window reads
  padding or an interpolation edge the composed kernel does not reproduce.
* ``composed`` runs the composed convolution (upsampling through tconv's transposed-convolution
  dispatcher) and recomputes the strips exactly from the padded signal: work proportional to the
  perimeter. It cannot run ``align_corners=True``, whose sampling grid is not periodic.
  ``naive`` is the plain composition; ``reference`` is it in float64.
* ``factored`` is ``composed`` with the innermost axis's conv kernel taps as output channels of
  its convolution, summed into that axis's phases after it (a compiled pass in CPU inference):
  fewer channel mixes for nearest upsampling with short kernels.
* ``separable`` (2-d upsampling) upsamples and convolves along the width, mixing the channels at
  the input height, and finishes the height with one matrix product: exact for every mode,
  ``align_corners=True`` included, and the fastest for linear upsampling.
* :mod:`.testing` draws random calls and holds the plain composition they are compared with
  (by the tests and ``tconv check``).
* :data:`FUSED` is the dispatcher: ``"auto"`` takes the first capable algorithm in the order of
  :func:`preference`; a name forces one, and a forced algorithm that cannot run raises with its
  reasons.
"""

from __future__ import annotations

import math

from ..dispatch import Dispatcher
from . import factored
from .composed import Composed
from .factored import Factored
from .naive import Naive, Reference
from .plan import FusedPlan
from .separable import Separable


def preference(plan: FusedPlan) -> tuple[str, ...]:
    """The default order, from ``tconv bench --suite resample`` on the 2-core CPU (BENCHMARKS.md).

    * Nearest upsampling where :func:`.factored.preferred` (1-d and 2-d CPU inference, compiling
      on, the innermost axis's channel mixes cut to 0.8 or less, and enough channels and work):
      ``factored`` (2.2-2.7x the plain composition on the benchmark's 2-d rows; 1.08-1.27x
      ``composed`` on compute-bound shapes, 1.13-1.67x where composed's core runs ``native``).
    * Other nearest upsampling and pooling: ``composed`` (2.0-2.6x the plain composition), but
      nearest upsampling of few input samples per image (:func:`_small`) runs ``naive``: there the
      fused paths' fixed costs (several calls, a compiled pass) outweigh the work they save
      (naive measured 1.3-3x faster on 2x2-8x8 inputs; 0.93x on ``[16, 256, 4, 4]``).
    * 2-d linear upsampling: ``separable`` (1.6-1.7x) while its dense height matrix costs at
      most about twice its convolution (output height <= 2 * Cin/groups * kW; measured
      separable/naive 0.72-0.93 up to a ratio of 2.13, 1.16-1.47 at 2.67); else ``naive``. ``composed`` needs
      as many multiplications per output as the plain 3x3 convolution there (a stride-2 tent is 4
      taps long), and measured 0.7-0.9x.
    """
    linear = any(axis.interpolation == "linear" and axis.scale > 1 for axis in plan.axes)
    if plan.op == "upsample_conv" and not linear and _small(plan):
        return ("naive", "factored", "composed", "separable")
    if not linear:
        return ("factored", "composed", "separable", "naive") if factored.preferred(plan) else ("composed", "factored", "separable", "naive")
    if plan.ndim == 2 and plan.axes[0].output <= 2 * plan.in_channels // plan.groups * plan.axes[1].kernel:
        return ("separable", "naive", "composed", "factored")
    return ("naive", "separable", "composed", "factored")


def _small(plan: FusedPlan) -> bool:
    """At most 16 input samples per image and channel, or at most 64 and fewer than 2^27
    multiplications in the plain composition's convolution."""
    samples = math.prod(axis.size for axis in plan.axes)
    kernel = math.prod(axis.kernel for axis in plan.axes)
    work = plan.batch * plan.out_channels * math.prod(plan.output_size) * plan.in_channels // plan.groups * kernel
    return samples <= 16 or (samples <= 64 and work < 2**27)


FUSED = Dispatcher((Composed(), Factored(), Separable(), Naive(), Reference()), preference, lambda plan: "naive", portable_when_compiling=True)
ALGORITHMS = FUSED.algorithms

__all__ = ["ALGORITHMS", "FUSED"]
