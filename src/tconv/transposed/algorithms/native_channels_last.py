"""``native_cl``: PyTorch's op on a channels-last copy of a channels-first input.

oneDNN runs transposed convolutions 2-5x faster on channels-last (NHWC) data than on NCHW, where
it reorders into blocked temporaries; for some shapes (BENCHMARKS.md) that gain is larger than the
cost of converting the input and the output. The window is handled as in ``native``.
"""

from __future__ import annotations

from typing import Optional

import torch

from ...core.plan import CHANNELS_LAST, channels_last_unreliable
from ..plan import ConvTransposePlan
from .native import Native


class NativeChannelsLast(Native):
    name = "native_cl"
    description = "PyTorch's conv_transpose run channels-last, the input and output converted"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in CHANNELS_LAST:
            reasons.append(f"channels-last layouts exist for 2 and 3 spatial axes, not {plan.ndim}")
        elif plan.channels_last:
            reasons.append("the input is already channels-last: that is 'native'")
        elif unreliable := channels_last_unreliable(plan):
            reasons.append(unreliable)
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        converted = input.contiguous(memory_format=CHANNELS_LAST[plan.ndim])
        return super().run(plan, converted, weight, bias).contiguous(memory_format=plan.memory_format)
