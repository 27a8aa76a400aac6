"""``composed``: a fused op as one convolution with a composed kernel, plus exact border strips.

1. The kernel: per axis, the conv kernel (dilated; reversed and laid out as a transposed
   convolution's ``(Cin, Cout // groups, ...)`` when upsampling) is replaced by a weighted sum of
   shifted copies of itself (:attr:`tconv.fused.plan.FusedAxis.taps`). Cheap: it touches weights only.
2. The bulk: upsampling runs as a stride-``scale`` transposed convolution through tconv's own
   dispatcher (so its fastest algorithm, or the autotuned one, is used); pooling runs as one
   ``F.convNd`` with stride ``stride * pool``. Neither builds the upsampled or unpooled tensor.
3. The borders: outputs listed by :attr:`~tconv.fused.plan.FusedAxis.strips` are computed from the
   padded signal itself, gathered from the input for those outputs only, and written over. The
   work is proportional to the perimeter.
"""

from __future__ import annotations

import functools
from typing import Optional

import torch
import torch.nn.functional as F

from ...core.algorithm import Algorithm
from ...kernels.ops import F_CONV
from ...transposed import DISPATCHER as TRANSPOSED
from ...transposed import spread_kernel
from ..plan import FusedAxis, FusedPlan, unsure_nearest


class Composed(Algorithm[FusedPlan]):
    name = "composed"
    description = "one strided or transposed convolution with a composed kernel, borders computed exactly"

    def why_not(self, plan: FusedPlan) -> list[str]:
        reasons = super().why_not(plan)
        for index, axis in enumerate(plan.axes):
            if axis.interpolation == "linear" and axis.align_corners and axis.scale > 1:
                reasons.append(
                    f"align_corners=True puts the input samples (size-1)/(size*scale-1) apart in the output on spatial "
                    f"axis {index}, a grid no stride-scale kernel follows: there is no composed kernel"
                )
        return reasons + unsure_nearest(plan)

    def run(
        self, plan: FusedPlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        # the strips convolve the exact padded signal: with the conv kernel after upsampling, with
        # the composed kernel (the pooling included) otherwise
        if plan.op == "upsample_conv":
            conv = dict(weight=weight, stride=[1] * plan.ndim, dilation=[axis.dilation for axis in plan.axes])
        else:
            conv = dict(
                weight=composed_weight(plan, weight),
                stride=[axis.stride * axis.pool for axis in plan.axes],
                dilation=[1] * plan.ndim,
            )
        out = self._bulk(plan, input, conv["weight"], bias)
        for a, axis in enumerate(plan.axes):
            count = max(axis.strips)
            if not count:
                continue
            # both ends at once, stacked along the batch (the shorter one widened: still exact)
            if 2 * count >= axis.output:
                firsts, count = (0,), axis.output
            else:
                firsts = (0, axis.output - count)
            signal = torch.cat([_signal(plan, input, a, first, count) for first in firsts])
            # the strip axis first: oneDNN runs long last axes faster than short ones
            signal, kernel = signal.movedim(2 + a, 2).contiguous(), conv["weight"].movedim(2 + a, 2)
            axes = {key: _first(value, a) for key, value in conv.items() if key != "weight"}
            strips = F_CONV[plan.ndim](signal, kernel, bias, padding=0, groups=plan.groups, **axes).movedim(2, 2 + a)
            for first, strip in zip(firsts, strips.split(plan.batch)):
                out.narrow(2 + a, first, count).copy_(strip)
        return out

    def _bulk(
        self, plan: FusedPlan, input: torch.Tensor, kernel: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """The composed convolution's outputs, zero where it computes none (the strips fill those);
        ``kernel`` is the conv kernel when upsampling, the composed kernel when pooling."""
        if plan.op == "upsample_conv":
            core = plan.core
            if core is None:
                return input.new_zeros(plan.output_shape).contiguous(memory_format=plan.memory_format)
            extension = [e for axis in reversed(plan.axes) for e in (axis.extension,) * 2]
            x = F.pad(input, extension, mode="replicate") if any(extension) else input
            out = self.transposed(plan, x, kernel, bias)
        else:
            counts = [axis.core_outputs[1] for axis in plan.axes]
            if not all(counts):
                return input.new_zeros(plan.output_shape).contiguous(memory_format=plan.memory_format)
            step = [axis.stride * axis.pool for axis in plan.axes]
            out = F_CONV[plan.ndim](input, kernel, bias, step, [axis.pad_begin for axis in plan.axes], 1, plan.groups)
        missing = [
            amount
            for axis in reversed(plan.axes)
            for amount in (axis.core_outputs[0], axis.output - sum(axis.core_outputs))
        ]
        if any(missing):
            out = F.pad(out, missing)
        return out.contiguous(memory_format=plan.memory_format)

    def transposed(
        self, plan: FusedPlan, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        """The core (upsampling): the composed kernel's transposed convolution of the extended
        input ``x``, by the transposed family's choice of algorithm (autotuned on the composed
        kernel where autotuning is on), given the kernel as the conv kernel's spread
        (:meth:`~tconv.transposed.algorithms.TransposedAlgorithm.run_spread`: ``subpixel`` folds it
        into its phase weight, building no composed kernel)."""
        algorithm = TRANSPOSED.select(plan.core, "auto", lambda: (x, composed_weight(plan, weight), bias))
        w = computing(weight)
        return algorithm.run_spread(plan.core, x, w, _spread(plan.axes, True, w.dtype, w.device), bias)


def _first(values: list[int], axis: int) -> list[int]:
    """Per-axis values with ``axis`` moved first."""
    return [values[axis], *values[:axis], *values[axis + 1 :]]


def composed_weight(plan: FusedPlan, weight: torch.Tensor) -> torch.Tensor:
    """The composed kernel: ``(Cin, Cout // groups, ...)`` when upsampling, else ``(Cout, Cin // groups, ...)``.

    Per axis it is the full convolution of the dilated kernel with the taps, a linear map of the
    kernel's taps (:func:`_spread`); for all axes at once one matrix product with their Kronecker
    product.
    """
    w = computing(weight)
    upsampling = plan.op == "upsample_conv"
    spread = _spread(plan.axes, upsampling, w.dtype, w.device)
    if upsampling:  # the transposed convolution's layout, as its family builds it
        return spread_kernel(plan.core, w, spread)
    composed = w.flatten(2) @ spread
    return composed.view(*w.shape[:2], *(axis.composed_kernel for axis in plan.axes)).to(weight.dtype)


@functools.lru_cache(maxsize=256)
def _spread(axes: tuple[FusedAxis, ...], reverse: bool, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(prod kernel, prod composed kernel)``: the Kronecker product of :func:`axis_spread`."""
    spread = torch.ones(1, 1, dtype=torch.float64)
    for axis in axes:
        spread = torch.kron(spread, axis_spread(axis, reverse))
    return spread.to(dtype=dtype, device=device)


@functools.lru_cache(maxsize=256)
def axis_spread(axis: FusedAxis, reverse: bool) -> torch.Tensor:
    """``(kernel, composed kernel)``, float64: tap ``k`` goes to ``k * dilation + offset`` with
    each tap's coefficient (``k`` counted from the end when ``reverse``)."""
    matrix = torch.zeros(axis.kernel, axis.composed_kernel, dtype=torch.float64)
    for k in range(axis.kernel):
        for offset, coefficient in axis.taps:
            matrix[axis.kernel - 1 - k if reverse else k, k * axis.dilation + offset] = coefficient
    return matrix


def computing(weight: torch.Tensor) -> torch.Tensor:
    """The weight in the dtype its kernel algebra runs in (float32 for half precision)."""
    return weight.float() if weight.dtype in (torch.float16, torch.bfloat16) else weight


def _signal(plan: FusedPlan, input: torch.Tensor, strip_axis: int, first: int, count: int) -> torch.Tensor:
    """The padded signal that outputs ``[first, first + count)`` along ``strip_axis`` (all of every
    other axis) read, gathered from the input."""
    regions = [(first, count) if a == strip_axis else (0, axis.output) for a, axis in enumerate(plan.axes)]
    signal = input
    for a in sorted(range(plan.ndim), key=lambda a: a != strip_axis):  # shrink first
        axis = plan.axes[a]
        index, scale = _gather_tables(axis, *axis.rows(*regions[a]), signal.dtype, signal.device)
        signal = _gather(signal, 2 + a, index, scale)
    return signal


@functools.lru_cache(maxsize=1024)
def _gather_tables(
    axis: FusedAxis, start: int, stop: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
    """:meth:`FusedAxis.sources` of padded-signal samples ``[start, stop)`` as tensors: the input
    rows ``(samples, taps)`` and their weights (None when every sample is one row, weight 1)."""
    indices, weights = axis.sources(start, stop)
    index = torch.tensor(indices, device=device)
    if all(w == (1.0,) for w in weights):
        return index, None
    return index, torch.tensor(weights, dtype=dtype, device=device)


def _gather(x: torch.Tensor, dim: int, index: torch.Tensor, scale: Optional[torch.Tensor]) -> torch.Tensor:
    """Along ``dim``: per sample, the sum of the input rows ``index`` weighted by ``scale``."""
    picked = x.index_select(dim, index.flatten()).unflatten(dim, index.shape)
    if scale is None:
        return picked.squeeze(dim + 1)
    return (picked * scale.view(*index.shape, *(1,) * (x.dim() - dim - 1))).sum(dim + 1)
