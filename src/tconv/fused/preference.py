"""The fused family's default choice, made without measuring: an order of preference per problem."""

from __future__ import annotations

import math

from .algorithms import factored
from .plan import FusedPlan


def preference(plan: FusedPlan) -> tuple[str, ...]:
    """The default order, from ``tconv bench --suite resample`` on the 2-core CPU (BENCHMARKS.md).

    * Nearest upsampling where :func:`.algorithms.factored.preferred` (1-d and 2-d CPU inference, compiling
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
        return (
            ("factored", "composed", "separable", "naive")
            if factored.preferred(plan)
            else ("composed", "factored", "separable", "naive")
        )
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


def portable(plan: FusedPlan) -> str:
    """Exported, traced or compiled: ``naive``, the plain composition of standard operators
    (inductor fuses it itself)."""
    return "naive"
