"""Planning fused resampling convolutions: every argument checked, every axis reduced to numbers.

Per spatial axis a fused op reads a *signal* and convolves it:

* ``upsample_conv``: the signal is the input upsampled ``scale`` times (nearest or linear), padded
  by ``(pad_begin, pad_end)`` in ``padding_mode``; the convolution has stride 1.
* ``conv_pool``: the signal is the input padded in ``padding_mode``; the convolution has stride
  ``stride`` and is followed by average pooling over ``pool`` samples (kernel = stride = pool).

Away from the borders both are one strided (transposed) convolution of the input with a *composed*
kernel (the algebra is in :class:`FusedAxis`). Near a border the composed kernel may read what the
naive path does not (zeros where it reads reflected samples, or interpolation not clamped at the
edge); :attr:`FusedAxis.strips` says how many outputs at each end must be computed exactly from
the signal itself, which :meth:`FusedAxis.sources` describes sample by sample.

This module is pure Python: no tensors.
"""

from __future__ import annotations

import functools
import math
import struct
from dataclasses import dataclass
from numbers import Real
from typing import Optional, Sequence

from ..core.geometry import AxisWindow, conv_output_length, conv_padding, full_length
from ..core.plan import TensorFacts, check_padding_mode, conv_channels, per_axis
from ..transposed.plan import ConvTransposePlan

LINEAR_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}
NEAREST_MODES = ("nearest", "nearest-exact")  # the same sampling for integer scale factors


@dataclass(frozen=True)
class FusedAxis:
    """One spatial axis of a fused op (see the module docstring)."""

    size: int
    kernel: int
    dilation: int
    pad_begin: int
    pad_end: int
    padding_mode: str = "zeros"
    stride: int = 1
    pool: int = 1
    upsampling: bool = False
    scale: int = 1
    interpolation: str = "nearest"  # or "nearest-exact" or "linear"
    align_corners: bool = False

    # -- lengths ---------------------------------------------------------------------------------

    @property
    def signal(self) -> int:
        """The unpadded signal's length: the upsampled input, or the input."""
        return self.size * self.scale

    @property
    def reach(self) -> int:
        """The conv kernel's extent, ``(kernel - 1) * dilation``."""
        return (self.kernel - 1) * self.dilation

    @property
    def conv_length(self) -> int:
        return conv_output_length(self.signal, self.kernel, self.stride, self.dilation, self.pad_begin, self.pad_end)

    @property
    def output(self) -> int:
        return self.conv_length // self.pool

    # -- the composed kernel ---------------------------------------------------------------------

    @functools.cached_property
    def base(self) -> tuple[int, tuple[float, ...]]:
        """Upsampling as a transposed convolution with stride ``scale``: ``(first, taps)``, the
        unclamped upsampled signal being ``sum_i x[i] * taps[j - scale * i - first]``."""
        s = self.scale
        if self.interpolation != "linear":
            return 0, (1.0,) * s
        # linear, align_corners=False: x[i] sits at (j + 1/2) / s - 1/2 == i; a tent of half-width s
        weights = {q: 1 - abs(2 * q + 1 - s) / (2 * s) for q in range(-s, 2 * s)}
        support = [q for q, weight in weights.items() if weight > 0]
        return support[0], tuple(weights[q] for q in range(support[0], support[-1] + 1))

    @property
    def taps(self) -> tuple[tuple[int, float], ...]:
        """``(offset, coefficient)`` pairs: the composed kernel is ``sum c * shift(w', offset)``
        with ``w'`` the dilated conv kernel, reversed when upsampling (a transposed convolution)."""
        if self.upsampling:
            return tuple(enumerate(self.base[1]))
        return tuple((a * self.stride, 1.0 / self.pool) for a in range(self.pool))

    @property
    def composed_kernel(self) -> int:
        return self.reach + 1 + self.taps[-1][0]

    @property
    def extension(self) -> int:
        """Input samples replicated at each end before the composed convolution: 1 for linear
        upsampling (the clamped interpolation at the edge is then exact), else 0."""
        return 1 if self.upsampling and self.interpolation == "linear" and self.scale > 1 else 0

    @property
    def core_window(self) -> Optional[tuple[int, AxisWindow]]:
        """Upsampling: ``(first output, window)``: the transposed convolution of the extended input
        with the composed kernel gives outputs ``[first, first + window.length)``; None if none."""
        begin = self.reach - self.pad_begin - self.base[0] + self.scale * self.extension
        first = max(0, -begin)
        if first >= self.output:
            return None
        full = full_length(self.size + 2 * self.extension, self.composed_kernel, self.scale, 1)
        return first, AxisWindow(full, max(0, begin), self.output - first)

    @property
    def core_outputs(self) -> tuple[int, int]:
        """``(first, count)``: the outputs the composed convolution computes."""
        if self.upsampling:
            core = self.core_window
            return (0, 0) if core is None else (core[0], core[1].length)
        step = self.stride * self.pool
        count = conv_output_length(self.size, self.composed_kernel, step, 1, self.pad_begin, self.pad_begin)
        return 0, max(0, min(count, self.output))

    @property
    def exact_everywhere(self) -> bool:
        """Whether the composed convolution reads exactly the padded signal (zeros padding, and
        the upsampling's own edge made exact by :attr:`extension`)."""
        return self.padding_mode == "zeros" and (self.interpolation != "linear" or self.scale == 1)

    @functools.cached_property
    def strips(self) -> tuple[int, int]:
        """Outputs at ``(begin, end)`` to compute exactly from the signal, not the composed kernel:
        those the composed convolution does not compute, and those whose window touches padding
        the composed convolution does not read as the naive path does."""
        first, count = self.core_outputs
        begin, end = first, self.output - first - count
        if not self.exact_everywhere:
            step = self.stride * self.pool
            begin = max(begin, -(-self.pad_begin // step))
            last_exact = (self.signal + self.pad_begin - self.reach - 1 - (self.pool - 1) * self.stride) // step
            end = max(end, self.output - 1 - last_exact)
        begin = min(begin, self.output)
        return begin, min(end, self.output - begin)

    # -- the signal, sample by sample ------------------------------------------------------------

    def rows(self, first: int, count: int) -> tuple[int, int]:
        """The padded-signal samples ``[start, stop)`` that outputs ``[first, first + count)`` read
        (signal coordinates: sample 0 is the first unpadded one)."""
        step = self.stride * self.pool
        start = first * step - self.pad_begin
        return start, start + ((count * self.pool) - 1) * self.stride + self.reach + 1

    def sources(self, start: int, stop: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[float, ...], ...]]:
        """Padded-signal samples ``[start, stop)`` as input samples: per sample, the input indices
        and their weights (equally many per sample: 1 for nearest, 2 for linear; padding zeros
        are index 0 with weight 0)."""
        indices, weights = [], []
        width = 2 if self.upsampling and self.interpolation == "linear" else 1
        for j in range(start, stop):
            source = self._unpad(j)
            if source is None:
                pairs = [(0, 0.0)] * width
            elif width == 1:
                pairs = [(source // self.scale, 1.0)]
            else:
                pairs = self._linear(source)
            indices.append(tuple(index for index, _ in pairs))
            weights.append(tuple(weight for _, weight in pairs))
        return tuple(indices), tuple(weights)

    def _unpad(self, j: int) -> Optional[int]:
        """The unpadded signal sample that padded sample ``j`` repeats, or None for a zero."""
        n = self.signal
        if 0 <= j < n:
            return j
        if self.padding_mode == "zeros":
            return None
        if self.padding_mode == "replicate":
            return min(max(j, 0), n - 1)
        if self.padding_mode == "circular":
            return j % n
        return -j if j < 0 else 2 * (n - 1) - j  # reflect

    @functools.cached_property
    def nearest_is_floor(self) -> bool:
        """Whether PyTorch's nearest (or nearest-exact) source of every upsampled sample ``j`` is
        ``j // scale``, as the fused algorithms compute it.

        PyTorch computes ``floor(j * (1 / scale))`` (``j + 0.5`` for nearest-exact) in float32 or
        in double, depending on the dtype and on the kernel it takes (1-d and 2-d float64 calls
        were seen to differ), so it can round to the sample before: scale 47 in float32, 49 in
        both. Only where every such rounding gives ``j // scale`` is the index certain.
        """
        if self.interpolation == "linear" or self.scale == 1 or (self.scale == 2 and self.interpolation == "nearest"):
            return True
        offset = 0.0 if self.interpolation == "nearest" else 0.5
        for inverse in (1.0 / self.scale, _float32(1.0 / self.scale)):
            for rounded in (float, _float32):
                if any(math.floor(rounded((j + offset) * inverse)) != j // self.scale for j in range(self.signal)):
                    return False
        return True

    def _linear(self, j: int) -> list[tuple[int, float]]:
        """PyTorch's linear interpolation at upsampled sample ``j``: two input samples, weighted."""
        if self.align_corners:
            position = (self.size - 1) / (self.signal - 1) * j if self.signal > 1 else 0.0
        else:
            position = max((1.0 / self.scale) * (j + 0.5) - 0.5, 0.0)
        low = int(position)
        high = low + 1 if low < self.size - 1 else low
        fraction = min(max(position - low, 0.0), 1.0)
        return [(low, 1.0 - fraction), (high, fraction)]


def unsure_nearest(plan: "FusedPlan") -> list[str]:
    """Reasons an algorithm that samples ``j // scale`` cannot run ``plan`` (see
    :attr:`FusedAxis.nearest_is_floor`); empty when it can."""
    return [
        f"PyTorch's own {axis.interpolation} index rounds to another sample than j // {axis.scale} somewhere on "
        f"spatial axis {index} (size {axis.size}); only the plain composition reproduces it"
        for index, axis in enumerate(plan.axes)
        if not axis.nearest_is_floor
    ]


def _float32(value: float) -> float:
    """``value`` rounded to the nearest float32."""
    return struct.unpack("f", struct.pack("f", value))[0]


@dataclass(frozen=True)
class FusedPlan(TensorFacts):
    """A batched fused op, reduced to per-axis numbers.

    Attributes:
        op: ``"upsample_conv"`` or ``"conv_pool"``.
        batch, in_channels, out_channels, groups: as in ``nn.ConvNd``; the weight is
            ``(out_channels, in_channels // groups, *kernel)``.
        axes: one :class:`FusedAxis` per spatial axis.
        mode: PyTorch's interpolation mode name (``upsample_conv``), else None.

    and the :class:`~tconv.core.plan.TensorFacts`.
    """

    op: str
    batch: int
    in_channels: int
    out_channels: int
    groups: int
    axes: tuple[FusedAxis, ...]
    mode: Optional[str] = None

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(axis.output for axis in self.axes)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.batch, self.out_channels, *self.output_size)

    @property
    def align_corners(self) -> Optional[bool]:
        """The ``align_corners`` to give ``F.interpolate``: None for nearest modes."""
        return None if self.mode in NEAREST_MODES else self.axes[0].align_corners

    @functools.cached_property
    def core(self) -> Optional[ConvTransposePlan]:
        """Upsampling: the transposed convolution with the composed kernel on the extended input,
        or None when the strips cover the whole output."""
        cores = [axis.core_window for axis in self.axes]
        if self.op != "upsample_conv" or None in cores or any(sum(axis.strips) >= axis.output for axis in self.axes):
            return None
        return ConvTransposePlan(
            batch=self.batch,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            groups=self.groups,
            input_size=tuple(axis.size + 2 * axis.extension for axis in self.axes),
            kernel_size=tuple(axis.composed_kernel for axis in self.axes),
            stride=tuple(axis.scale for axis in self.axes),
            dilation=(1,) * self.ndim,
            windows=tuple(window for _, window in cores),
            has_bias=self.has_bias,
            dtype=self.dtype,
            device_type=self.device_type,
            channels_last=self.channels_last,
            requires_grad=self.requires_grad,
            lean=True,
        )


# ------------------------------------------------------------------------------------------------
# Planning: argument checks


def plan_upsample_conv(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    scale_factor: object = 2,
    mode: object = "nearest",
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    padding_mode: object = "zeros",
    align_corners: object = None,
    **tensors: object,
) -> FusedPlan:
    """Check an ``upsample_convNd`` call (batched shapes) and plan it; see
    :func:`tconv.upsample_conv2d` for the arguments. ``tensors``: ``has_bias``, ``bias_shape``,
    ``dtype``, ``device_type``, ``channels_last``, ``requires_grad``."""
    ndim, channels = conv_channels(input_shape, weight_shape, groups, tensors)
    check_mode(mode, align_corners, ndim)
    scales = parse_scale_factor(scale_factor, ndim)
    dilation = per_axis(dilation, ndim, "dilation", minimum=1)
    kernel = tuple(int(k) for k in weight_shape[2:])
    sizes = tuple(int(n) * s for n, s in zip(input_shape[2:], scales))
    pads = conv_padding(padding, ndim, kernel, dilation, strided=False)
    axes = tuple(
        FusedAxis(
            size=int(n),
            kernel=k,
            dilation=d,
            pad_begin=pb,
            pad_end=pe,
            padding_mode=check_padding_mode(padding_mode),
            upsampling=True,
            scale=s,
            interpolation=mode if mode in NEAREST_MODES else "linear",
            align_corners=bool(align_corners),
        )
        for n, k, d, (pb, pe), s in zip(input_shape[2:], kernel, dilation, pads, scales)
    )
    _check_axes(axes, sizes, "the upsampled input")
    return FusedPlan("upsample_conv", int(input_shape[0]), *channels, axes=axes, mode=mode, **_tensor_facts(tensors))


def check_mode(mode: object, align_corners: object, ndim: int) -> None:
    """Raise for an upsampling ``mode`` or ``align_corners`` the fused ops do not take."""
    linear = LINEAR_MODES.get(ndim)
    if mode not in (*NEAREST_MODES, linear):
        legal = ", ".join(map(repr, (*NEAREST_MODES, linear)))
        raise ValueError(
            f"mode: {mode!r} is not an upsampling mode tconv fuses for {ndim}-d inputs; legal values are {legal}"
        )
    if mode in NEAREST_MODES and align_corners is not None:
        raise ValueError(
            f"align_corners: only the linear modes take it; got align_corners={align_corners!r} with mode={mode!r}"
        )
    if align_corners is not None and not isinstance(align_corners, bool):
        raise TypeError(f"align_corners: expected None, True or False; got {align_corners!r}")


def plan_conv_pool(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    pool_size: object = 2,
    padding_mode: object = "zeros",
    **tensors: object,
) -> FusedPlan:
    """Check a ``conv_poolNd`` call (batched shapes) and plan it; see :func:`tconv.conv_pool2d`."""
    ndim, channels = conv_channels(input_shape, weight_shape, groups, tensors)
    stride = per_axis(stride, ndim, "stride", minimum=1)
    dilation = per_axis(dilation, ndim, "dilation", minimum=1)
    pools = per_axis(pool_size, ndim, "pool_size", minimum=1)
    kernel = tuple(int(k) for k in weight_shape[2:])
    pads = conv_padding(padding, ndim, kernel, dilation, strided=any(s > 1 for s in stride))
    axes = tuple(
        FusedAxis(
            size=int(n),
            kernel=k,
            dilation=d,
            pad_begin=pb,
            pad_end=pe,
            padding_mode=check_padding_mode(padding_mode),
            stride=s,
            pool=p,
        )
        for n, k, d, (pb, pe), s, p in zip(input_shape[2:], kernel, dilation, pads, stride, pools)
    )
    _check_axes(axes, tuple(int(n) for n in input_shape[2:]), "the input")
    for axis_index, axis in enumerate(axes):
        if axis.output < 1:
            raise ValueError(
                f"pool_size: {axis.pool} on spatial axis {axis_index} is larger than the convolution's output there "
                f"({axis.conv_length})"
            )
    return FusedPlan("conv_pool", int(input_shape[0]), *channels, axes=axes, **_tensor_facts(tensors))


def _tensor_facts(tensors: dict) -> dict:
    return {key: value for key, value in tensors.items() if key != "bias_shape"}


def parse_scale_factor(scale_factor: object, ndim: int) -> tuple[int, ...]:
    values = (scale_factor,) * ndim if isinstance(scale_factor, Real) else scale_factor
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(
            f"scale_factor: expected a number or {ndim} numbers (one per spatial axis); got {scale_factor!r}"
        )
    if len(values) != ndim:
        raise ValueError(
            f"scale_factor: expected a number or {ndim} numbers (one per spatial axis); got {scale_factor!r}"
        )
    scales = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"scale_factor: expected numbers; got {value!r}")
        if not math.isfinite(value) or value != int(value) or value < 1:
            raise ValueError(f"scale_factor: tconv fuses integer scale factors >= 1 only; got {scale_factor!r}")
        scales.append(int(value))
    return tuple(scales)


def _check_axes(axes: tuple[FusedAxis, ...], signals: tuple[int, ...], what: str) -> None:
    for index, (axis, signal) in enumerate(zip(axes, signals)):
        largest = max(axis.pad_begin, axis.pad_end)
        if axis.padding_mode == "reflect" and largest >= signal:
            raise ValueError(
                f"padding: reflect padding of {largest} on spatial axis {index} must be smaller than {what}'s size "
                f"there ({signal})"
            )
        if axis.padding_mode == "circular" and largest > signal:
            raise ValueError(
                f"padding: circular padding of {largest} on spatial axis {index} must not exceed {what}'s size there "
                f"({signal})"
            )
        if axis.conv_length < 1:
            raise ValueError(
                f"weight: the kernel's extent {axis.reach + 1} on spatial axis {index} is larger than {what} padded "
                "there "
                f"({signal + axis.pad_begin + axis.pad_end})"
            )


__all__ = [
    "FusedAxis",
    "FusedPlan",
    "LINEAR_MODES",
    "NEAREST_MODES",
    "check_mode",
    "unsure_nearest",
    "parse_scale_factor",
    "plan_conv_pool",
    "plan_upsample_conv",
]
