"""``naive``: the composition exactly as PyTorch runs it.

``naive`` upsamples with ``F.interpolate`` (``upsample_conv``), pads in the padding mode as
``nn.ConvNd`` does, convolves, and average-pools (``conv_pool``): the baseline, and the only
algorithm for what no composed kernel expresses (linear upsampling with ``align_corners=True``).
The family's ``reference`` is the same in float64.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from ...core.algorithm import Algorithm
from ...kernels.ops import F_AVG_POOL, F_CONV
from ..plan import FusedPlan


class Naive(Algorithm[FusedPlan]):
    name = "naive"
    description = "F.interpolate (or not), the padding, F.convNd, F.avg_poolNd (or not): the plain composition"

    def why_not(self, plan: FusedPlan) -> list[str]:
        reasons = super().why_not(plan)
        if (
            plan.op == "conv_pool"
            and plan.ndim == 3
            and plan.device_type == "cpu"
            and plan.dtype in (torch.float16, torch.bfloat16)
            and any(axis.pool > 1 for axis in plan.axes)
        ):
            reasons.append(f"PyTorch's CPU avg_pool3d has no {plan.dtype} kernel")
        return reasons

    def run(
        self, plan: FusedPlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        axes = plan.axes
        x = input
        if plan.op == "upsample_conv":
            scales = [float(axis.scale) for axis in axes]
            x = F.interpolate(x, scale_factor=scales, mode=plan.mode, align_corners=plan.align_corners)
        symmetric = all(axis.pad_begin == axis.pad_end for axis in axes)
        padding = [axis.pad_begin for axis in axes]
        if axes[0].padding_mode != "zeros" or not symmetric:
            pads = [p for axis in reversed(axes) for p in (axis.pad_begin, axis.pad_end)]
            mode = "constant" if axes[0].padding_mode == "zeros" else axes[0].padding_mode
            x, padding = F.pad(x, pads, mode=mode), 0
        y = F_CONV[plan.ndim](
            x, weight, bias, [axis.stride for axis in axes], padding, [axis.dilation for axis in axes], plan.groups
        )
        if any(axis.pool > 1 for axis in axes):
            y = F_AVG_POOL[plan.ndim](y, [axis.pool for axis in axes])
        return y
