"""The default choice, made without measuring: an order of preference per problem and device.

Derived from ``tconv bench`` on the machines recorded in BENCHMARKS.md; the dispatcher takes the
first algorithm in this order that can run the problem.
"""

from __future__ import annotations

from ..plan import ConvTransposePlan


def preference(plan: ConvTransposePlan) -> tuple[str, ...]:
    """Algorithm names, fastest expected first."""
    depthwise = plan.in_channels == plan.groups
    if depthwise:
        return ("nonoverlap", "native", "subpixel", "gemm")
    return ("native", "nonoverlap", "subpixel", "gemm")
