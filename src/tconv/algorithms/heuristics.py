"""The default choice, made without measuring: an order of preference per problem and device.

From ``tconv bench`` and side-by-side runs on the 2-core CPU recorded in BENCHMARKS.md:

* kernels that do not overlap (k <= stride), channels-first, inference: ``nonoverlap`` (3.2x
  PyTorch for a depthwise k = s = 2 deconv, 1.1x for a dense one); its backward is autograd's
  broadcast reduction, slower than PyTorch's, so not when gradients are needed;
* everything else: ``native``; ``native_cl`` won by 5-15 % on some strided shapes and lost up to
  25 % on others, ``subpixel`` and ``gemm`` lost on every measured shape: autotuning
  (``tconv.set_autotune(True)``) finds where they win.

No GPU was measured yet: CUDA takes the same order as the CPU.
"""

from __future__ import annotations

from ..plan import ConvTransposePlan

_DEFAULT = ("native", "native_cl", "nonoverlap", "subpixel", "gemm")


def preference(plan: ConvTransposePlan) -> tuple[str, ...]:
    """Algorithm names, fastest expected first."""
    blocks_apart = all((k - 1) * d + 1 <= s for k, s, d in zip(plan.kernel_size, plan.stride, plan.dilation))
    if blocks_apart and not plan.requires_grad and not plan.channels_last:
        return ("nonoverlap", "native", "native_cl", "subpixel", "gemm")
    return _DEFAULT
