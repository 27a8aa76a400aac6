"""The default choice, made without measuring: an order of preference per problem and device.

From ``tconv bench`` and side-by-side runs on the 2-core CPU recorded in BENCHMARKS.md:

* 2-d dense (not depthwise) kernels that do not overlap (k <= stride), channels-first, inference:
  ``nonoverlap`` (1.07-1.15x PyTorch on a U-Net k2 s2 up-conv in every run); in 3-d it lost, and
  its backward (autograd's broadcast reduction) is slower than PyTorch's;
* depthwise k = s: PyTorch's NCHW kernel takes 1.8 ms or 14 ms for the same call, depending on
  whether glibc's adaptive malloc thresholds make its temporaries page-fault; ``nonoverlap`` takes
  4.5 ms in both states, so it is not the default;
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
    blocks_apart = all(phase.taps == 1 for phase in plan.phases)  # (k - 1) * d + 1 <= s
    dense = plan.in_channels > plan.groups
    if blocks_apart and dense and plan.ndim == 2 and not plan.requires_grad and not plan.channels_last:
        return ("nonoverlap", "native", "native_cl", "subpixel", "gemm")
    return _DEFAULT
