"""``separable``: 2-d upsampling + conv with the channels mixed before the second upsampling.

Upsampling is separable and so is a convolution's padding, so ``conv(pad(up_h(up_w(x))))`` is
computed axis by axis:

1. Along the width, upsample and pad (one matrix product with the padded signal's
   :meth:`~tconv.fused.plan.FusedAxis.sources`), then convolve with the ``1 × kW`` rows of the
   kernel, one output channel per ``(Cout, kh)``: ``z`` is ``(N, Cout * kH, H, W_out)``, at the
   *input* height. This mixes the channels on ``s`` times fewer rows than the plain path.
2. Along the height, each output row is a fixed linear combination of ``z``'s rows (upsampling,
   padding in any mode and the ``kH`` taps, borders included): one ``(H_out, kH * H)`` matrix
   product.

In CPU inference it runs the batch in two halves, each written straight into the output
(:func:`tconv.core.plan.in_halves`). Exact everywhere for every mode and padding mode,
``align_corners=True`` included: nothing is composed, only reordered.
"""

from __future__ import annotations

import functools
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.algorithm import Algorithm
from ...core.plan import in_halves
from ..plan import FusedAxis, FusedPlan, unsure_nearest


class Separable(Algorithm[FusedPlan]):
    name = "separable"
    description = "upsample along the width, convolve into Cout × kH channels, then one matrix along the height"

    def why_not(self, plan: FusedPlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.op != "upsample_conv":
            reasons.append("it splits upsampling, not pooling")
        if plan.ndim != 2:
            reasons.append(f"it is written for 2 spatial axes, not {plan.ndim}")
        return reasons + unsure_nearest(plan)

    def run(
        self, plan: FusedPlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        height, width = plan.axes
        across = _signal_matrix(width, *width.rows(0, width.output), input.dtype, input.device).T
        rows = weight.transpose(1, 2).flatten(0, 1).unsqueeze(2)  # (Cout * kH, Cin / g, 1, kW)
        taps = _height_matrix(height, input.dtype, input.device)

        def finish(part: torch.Tensor, out: Optional[torch.Tensor] = None) -> torch.Tensor:
            z = F.conv2d(torch.matmul(part, across), rows, None, 1, 0, (1, width.dilation), plan.groups)
            z = z.unflatten(1, (plan.out_channels, height.kernel)).flatten(2, 3)  # (n, Cout, kH * H, W_out)
            y = torch.matmul(taps, z, out=out)
            return y if bias is None else y.add_(bias.view(-1, 1, 1))

        if not in_halves(plan):
            return finish(input).contiguous(memory_format=plan.memory_format)
        out = input.new_empty(plan.output_shape)
        for part, target in zip(input.chunk(2), out.chunk(2)):
            finish(part, target)
        return out


@functools.lru_cache(maxsize=256)
def _height_matrix(axis: FusedAxis, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(output, kernel * size)``: each output row as a combination of the rows ``(kh, i)`` of
    the width-convolved input, for every tap ``kh``."""
    starts = [kh * axis.dilation - axis.pad_begin for kh in range(axis.kernel)]
    return torch.cat([_signal_matrix(axis, start, start + axis.output, dtype, device) for start in starts], 1)


@functools.lru_cache(maxsize=256)
def _signal_matrix(axis: FusedAxis, start: int, stop: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(stop - start, size)``: the padded signal's samples ``[start, stop)`` as combinations of
    the input's samples."""
    indices, weights = axis.sources(start, stop)
    matrix = torch.zeros(stop - start, axis.size, dtype=torch.float64)
    matrix.scatter_add_(
        1,
        torch.tensor(indices).view(stop - start, -1),
        torch.tensor(weights, dtype=torch.float64).view(stop - start, -1),
    )
    return matrix.to(dtype=dtype, device=device)
