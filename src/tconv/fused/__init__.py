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
  perimeter. ``naive`` is the plain composition (the only way for ``align_corners=True``, whose
  sampling grid is not periodic); ``reference`` is it in float64.
* :data:`FUSED` is the dispatcher: ``"auto"`` takes the first capable algorithm in the order of
  :func:`preference` (``composed`` first, except for linear upsampling on the CPU, where it
  measured slower); a name forces one, and a forced algorithm that cannot run raises with its reasons.
"""

from __future__ import annotations

from ..dispatch import Dispatcher
from .composed import Composed
from .naive import Naive, Reference
from .plan import FusedPlan



def preference(plan: FusedPlan) -> tuple[str, ...]:
    """The default order, from ``tconv bench --suite resample`` on the 2-core CPU (BENCHMARKS.md).

    Nearest upsampling and pooling: ``composed`` (2.2-2.5x the plain composition). Linear
    upsampling: ``naive``. Its composed kernel needs as many multiplications per output as the
    plain 3x3 convolution (a stride-2 tent is 4 taps long, so 9 per output for a 3x3 kernel),
    oneDNN runs that transposed convolution no faster than the plain one, and the border strips
    cost more than the interpolation saves: ``composed`` measured 0.7-0.9x there.
    """
    if plan.device_type == "cpu" and any(axis.interpolation == "linear" and axis.scale > 1 for axis in plan.axes):
        return ("naive", "composed")
    return ("composed", "naive")


FUSED = Dispatcher((Composed(), Naive(), Reference()), preference)
ALGORITHMS = FUSED.algorithms

__all__ = ["ALGORITHMS", "FUSED"]
