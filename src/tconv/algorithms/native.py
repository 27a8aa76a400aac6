"""``native``: PyTorch's own transposed convolution (oneDNN on CPU, cuDNN on GPU) plus the window.

PyTorch's ``padding=p, output_padding=op`` returns the window ``[p, L + op - p)``. The symmetric
part of any window is passed to PyTorch as ``padding``; only what is left (an asymmetric crop of a
sample or so, or zeros past the end beyond what ``output_padding`` can give) is applied afterwards.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from ..geometry import AxisWindow
from ..plan import ConvTransposePlan
from .base import Algorithm

_TORCH_OPS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def torch_window(window: AxisWindow, stride: int, dilation: int) -> tuple[int, int, int, int, int]:
    """Split a window into PyTorch's ``(padding, output_padding)`` and the rest.

    Returns ``(padding, output_padding, crop_begin, crop_end, zeros_after)``: PyTorch's result,
    cropped by ``crop_begin`` and ``crop_end`` and followed by ``zeros_after`` zeros, is the window.
    """
    padding = min(window.begin, window.crop_end)
    output_padding = min(window.zeros_after, max(stride, dilation) - 1)
    torch_end = window.full - padding + output_padding
    return (
        padding,
        output_padding,
        window.begin - padding,
        max(0, torch_end - window.end),
        window.zeros_after - output_padding,
    )


class Native(Algorithm):
    name = "native"
    description = "PyTorch's conv_transpose (oneDNN / cuDNN) with the window as its padding"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in _TORCH_OPS:
            reasons.append(f"PyTorch has transposed convolutions for 1 to 3 spatial axes, not {plan.ndim}")
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        splits = [torch_window(w, s, d) for w, s, d in zip(plan.windows, plan.stride, plan.dilation)]
        zeros = [amount for split in reversed(splits) for amount in (0, split[4])]
        out = _TORCH_OPS[plan.ndim](
            input,
            weight,
            None if any(zeros) else bias,
            stride=plan.stride,
            padding=tuple(split[0] for split in splits),
            output_padding=tuple(split[1] for split in splits),
            groups=plan.groups,
            dilation=plan.dilation,
        )
        if all(split[2:] == (0, 0, 0) for split in splits):
            return out
        for axis, (_, _, crop_begin, crop_end, _) in enumerate(splits, start=2):
            out = out.narrow(axis, crop_begin, out.shape[axis] - crop_begin - crop_end)
        if any(zeros):
            out = F.pad(out, zeros)
            if bias is not None:
                out = out + bias.view(-1, *(1,) * plan.ndim)
        return out.contiguous(memory_format=plan.memory_format)
