"""The default choice, made without measuring: an order of preference per problem and device.

From ``tconv bench`` and side-by-side runs on the 2-core CPUs recorded in BENCHMARKS.md:

* kernels that do not overlap (k <= stride), channels-first, on the CPU: ``nonoverlap_compiled``
  where it can run (compiling on, an integer word for the innermost stride): on a 2-core Xeon
  3.1x PyTorch forward on the depthwise k = s = 2 row, 1.8x on a U-Net k2 s2 up-conv, 3.2x on a
  3-d k2 s2; forward+backward 2.6x, 1.3x, 1.9x (medians of three runs). It compiles each new
  problem (seconds);
* otherwise 2-d dense (not depthwise) k <= stride, channels-first, inference: ``nonoverlap``
  (1.07-1.15x PyTorch on the U-Net up-conv on a 2-core EPYC); in 3-d it lost, and its backward
  (autograd's broadcast reduction) is slower than PyTorch's;
* overlapping strided kernels, channels-first, one group, CPU inference, where the phases'
  convolution does at most 7 % more multiplications than the transposed convolution
  (:func:`.algorithms.subpixel.extra_work`: a kernel that is a multiple of the stride, inputs of 32 and
  more): ``subpixel_compiled``; 15 % for a ``lean`` plan (the fused ops), where ``native`` runs
  the batch in halves (7-15 % slower) to hold its memory down and ``subpixel_compiled`` holds
  the phases and the output only. Side by side on the Xeon (k4 s2 p1, medians of nine rounds):
  1.8x PyTorch on 64x64 inputs, 1.04-1.09x on 32x32; 0.91-0.97x at 16x16 (extra 1.13), 0.74-0.88x
  on 4x4 and 8x8 (1.27-1.56); at stride 1 0.89-1.05x; depthwise and every backward lost;
* everything else: ``native``; ``native_cl`` won by 5-15 % on some strided shapes and lost up to
  25 % on others, ``subpixel`` and ``gemm`` lost on every measured shape: autotuning
  (``tconv.set_autotune(True)``) finds where they win.

No GPU was measured yet: CUDA takes the CPU's order (the compiled algorithms are CPU-only).
"""

from __future__ import annotations

from .algorithms.subpixel import extra_work
from .plan import ConvTransposePlan

_DEFAULT = ("native", "native_cl", "nonoverlap", "subpixel", "gemm")


def preference(plan: ConvTransposePlan) -> tuple[str, ...]:
    """Algorithm names, fastest expected first."""
    blocks_apart = all(phase.taps == 1 for phase in plan.phases)  # (k - 1) * d + 1 <= s
    if plan.channels_last:
        return (*_DEFAULT, "subpixel_compiled")
    if not blocks_apart:
        strided = any(stride > 1 for stride in plan.stride)
        if (
            plan.groups == 1
            and not plan.requires_grad
            and strided
            and extra_work(plan) <= (1.15 if plan.lean else 1.07)
        ):
            return ("subpixel_compiled", *_DEFAULT)
        return (*_DEFAULT, "subpixel_compiled")
    dense = plan.in_channels > plan.groups
    if dense and plan.ndim == 2 and not plan.requires_grad:
        return ("nonoverlap_compiled", "nonoverlap", "native", "native_cl", "subpixel", "gemm", "subpixel_compiled")
    return ("nonoverlap_compiled", *_DEFAULT, "subpixel_compiled")


def portable(plan: ConvTransposePlan) -> str:
    """Exported, traced or compiled: ``native``, PyTorch's own op, which every exporter knows."""
    return "native"
