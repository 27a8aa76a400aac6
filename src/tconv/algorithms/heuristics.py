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
* everything else: ``native``; ``native_cl`` won by 5-15 % on some strided shapes and lost up to
  25 % on others, ``subpixel`` and ``gemm`` lost on every measured shape: autotuning
  (``tconv.set_autotune(True)``) finds where they win.

No GPU was measured yet: CUDA takes the CPU's order (``nonoverlap_compiled`` is CPU-only).
"""

from __future__ import annotations

from ..plan import ConvTransposePlan

_DEFAULT = ("native", "native_cl", "nonoverlap", "subpixel", "gemm")


def preference(plan: ConvTransposePlan) -> tuple[str, ...]:
    """Algorithm names, fastest expected first."""
    blocks_apart = all(phase.taps == 1 for phase in plan.phases)  # (k - 1) * d + 1 <= s
    if not blocks_apart or plan.channels_last:
        return _DEFAULT
    dense = plan.in_channels > plan.groups
    if dense and plan.ndim == 2 and not plan.requires_grad:
        return ("nonoverlap_compiled", "nonoverlap", "native", "native_cl", "subpixel", "gemm")
    return ("nonoverlap_compiled", *_DEFAULT)
