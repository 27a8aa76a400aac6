"""``native``: PyTorch's own transposed convolution (oneDNN on CPU, cuDNN on GPU) plus the window.

PyTorch's ``padding=p, output_padding=op`` returns the window ``[p, L + op - p)``. The symmetric
part of any window is passed to PyTorch as ``padding``; only what is left (an asymmetric crop of a
sample or so, or zeros past the end beyond what ``output_padding`` can give) is applied afterwards.
A ``lean`` 2-d dense plan in CPU inference runs the batch in two halves, each written straight
into the output (:func:`tconv.core.plan.in_halves`): 13-17 % less peak memory for up to 7 % more time
in ``tconv bench --suite resample``, where 3-d (+11 %) and depthwise (+72 %) rows lost too much.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F

from ...core.geometry import AxisWindow
from ...core.plan import channels_last_unreliable, in_halves
from ...kernels.ops import F_CONV_TRANSPOSE
from ..plan import ConvTransposePlan
from .base import TransposedAlgorithm


def torch_window(window: AxisWindow, stride: int, dilation: int) -> tuple[int, int, int, int, int]:
    """Split a window into PyTorch's ``(padding, output_padding)`` and the rest.

    PyTorch returns ``[p, L - p + op)`` with ``op < max(stride, dilation)``. The largest ``p`` whose
    result still reaches the window's last real sample is taken, so that only an asymmetric crop
    (SAME's odd sample at the end) or zeros past the full output are left.

    Returns ``(padding, output_padding, crop_begin, crop_end, zeros_after)``: PyTorch's result,
    cropped by ``crop_begin`` and ``crop_end`` and followed by ``zeros_after`` zeros, is the window.
    A window that starts past the full output is all zeros: PyTorch's plain result, cropped away.
    """
    if window.begin >= window.full:
        return 0, 0, window.full, 0, window.length
    reach = max(stride, dilation) - 1
    padding = min(window.begin, window.crop_end + reach)
    output_padding = min(max(window.end - (window.full - padding), 0), reach)
    torch_end = window.full - padding + output_padding
    return (
        padding,
        output_padding,
        window.begin - padding,
        max(0, torch_end - window.end),
        max(0, window.end - torch_end),
    )


class Native(TransposedAlgorithm):
    name = "native"
    description = "PyTorch's conv_transpose (oneDNN / cuDNN) with the window as its padding"

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.ndim not in F_CONV_TRANSPOSE:
            reasons.append(f"PyTorch has transposed convolutions for 1 to 3 spatial axes, not {plan.ndim}")
        return reasons

    def run(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        if plan.channels_last and channels_last_unreliable(plan):
            input = input.contiguous()  # computed channels-first, returned channels-last
        call = torch_call(plan.windows, plan.stride, plan.dilation)
        late_bias = bias if bias is not None and (call.zeros or bias_apart(plan, call)) else None
        inner_bias = None if late_bias is not None else bias
        if plan.lean and call.exact and in_halves(plan) and plan.ndim == 2 and plan.groups == 1:
            out = torch.empty(plan.output_shape, dtype=input.dtype, device=input.device)
            for part, target in zip(input.chunk(2), out.chunk(2)):
                torch.ops.aten.convolution.out(
                    part,
                    weight,
                    inner_bias,
                    plan.stride,
                    call.padding,
                    plan.dilation,
                    True,
                    call.output_padding,
                    plan.groups,
                    out=target,
                )
        else:
            out = F_CONV_TRANSPOSE[plan.ndim](
                input,
                weight,
                inner_bias,
                stride=plan.stride,
                padding=call.padding,
                output_padding=call.output_padding,
                groups=plan.groups,
                dilation=plan.dilation,
            )
        if call.exact and late_bias is None:
            return out.contiguous(memory_format=plan.memory_format)
        return finish_window(out, plan, call.crops, call.zeros, late_bias)


def bias_apart(plan: ConvTransposePlan, call: TorchCall) -> bool:
    """Whether PyTorch's call runs without the bias, added afterwards. On the CPU, oneDNN's
    transposed convolution with a bias took 1.15-5x its time without one when groups > 1, or an
    axis has stride 1 or an output length its stride does not divide (BENCHMARKS.md); there the
    bias costs one pass over the output afterwards."""
    if not plan.has_bias or plan.device_type != "cpu":
        return False
    lengths = (w.full + op - 2 * p for w, p, op in zip(plan.windows, call.padding, call.output_padding))
    return plan.groups > 1 or any(s == 1 or length % s for s, length in zip(plan.stride, lengths))


def finish_window(
    out: torch.Tensor,
    plan: ConvTransposePlan,
    crops: tuple[tuple[int, int], ...],
    zeros: tuple[int, ...],
    bias: Optional[torch.Tensor],
) -> torch.Tensor:
    """What :func:`torch_window` leaves over: crop ``(begin, end)`` per axis, append ``zeros``
    (``F.pad``'s list), then add a bias not yet added; contiguous in the plan's layout."""
    for axis, (crop_begin, crop_end) in enumerate(crops, start=2):
        if crop_begin or crop_end:
            out = out.narrow(axis, crop_begin, out.shape[axis] - crop_begin - crop_end)
    if zeros:
        out = F.pad(out, zeros)
    out = out.contiguous(memory_format=plan.memory_format)
    if bias is not None:  # in place: no convolution's backward needs its output
        out = out.add_(bias.view(-1, *(1,) * plan.ndim))
    return out


class TorchCall(NamedTuple):
    """PyTorch's ``padding`` and ``output_padding`` for a window, and what they leave over."""

    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    crops: tuple[tuple[int, int], ...]  # (begin, end) per axis
    zeros: tuple[int, ...]  # F.pad's list, last axis first; empty when none
    exact: bool  # PyTorch's result is the window


@functools.lru_cache(maxsize=4096)
def torch_call(windows: tuple[AxisWindow, ...], strides: tuple[int, ...], dilations: tuple[int, ...]) -> TorchCall:
    """:func:`torch_window` for every axis."""
    splits = [torch_window(w, s, d) for w, s, d in zip(windows, strides, dilations)]
    zeros = tuple(amount for split in reversed(splits) for amount in (0, split[4]))
    crops = tuple((split[2], split[3]) for split in splits)
    return TorchCall(
        padding=tuple(split[0] for split in splits),
        output_padding=tuple(split[1] for split in splits),
        crops=crops,
        zeros=zeros if any(zeros) else (),
        exact=not any(zeros) and not any(begin or end for begin, end in crops),
    )
