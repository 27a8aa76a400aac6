"""Planning a transposed convolution: every argument checked, every axis reduced to its window.

A :class:`ConvTransposePlan` is pure Python (shapes, dtype, device type; no tensors). Algorithms
read it to say whether they can run a problem and to run it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import torch

from ..core.geometry import AxisWindow, Polyphase, axis_window, parse_padding, polyphase
from ..core.plan import TensorFacts, check_groups, per_axis


@dataclass(frozen=True)
class ConvTransposePlan(TensorFacts):
    """A batched transposed convolution, reduced to the window model.

    Attributes:
        batch: the batch size ``N``.
        in_channels: ``Cin``; the weight is ``(Cin, out_channels // groups, *kernel_size)``.
        out_channels: ``Cout``.
        groups: channel groups.
        input_size: spatial input sizes.
        kernel_size, stride, dilation: per spatial axis.
        windows: per axis, the window of the full output that is returned.
        lean: hold less memory where that costs little speed (see
            :func:`tconv.core.plan.in_halves`); a caller that keeps its own buffers alive next to
            the result (the fused ops, for their core) asks it. Algorithms may read it.

    and the :class:`TensorFacts`.
    """

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    windows: tuple[AxisWindow, ...]
    lean: bool = False

    @property
    def ndim(self) -> int:
        return len(self.input_size)

    @functools.cached_property
    def phases(self) -> tuple[Polyphase, ...]:
        """Per axis, the polyphase split of the window (see :class:`tconv.core.geometry.Polyphase`)."""
        return tuple(
            polyphase(i, k, s, d, window)
            for i, k, s, d, window in zip(self.input_size, self.kernel_size, self.stride, self.dilation, self.windows)
        )

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(window.length for window in self.windows)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.batch, self.out_channels, *self.output_size)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    def problem_key(self) -> str:
        windows = ",".join(f"{w.full}:{w.begin}:{w.length}" for w in self.windows)
        return (
            f"N{self.batch} C{self.in_channels}->{self.out_channels} g{self.groups} i{self.input_size} "
            f"k{self.kernel_size} s{self.stride} d{self.dilation} w{windows} bias{int(self.has_bias)} "
            f"{str(self.dtype).removeprefix('torch.')} {'cl' if self.channels_last else 'cf'} "
            f"grad{int(self.requires_grad)}" + (" lean" if self.lean else "")
        )


def plan_conv_transpose(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    output_size: Sequence[int] | None = None,
    has_bias: bool = False,
    bias_shape: Sequence[int] | None = None,
    dtype: torch.dtype = torch.float32,
    device_type: str = "cpu",
    channels_last: bool = False,
    requires_grad: bool = False,
) -> ConvTransposePlan:
    """Check a batched call's arguments (as PyTorch's ``conv_transposeNd`` takes them) and plan it.

    Raises:
        ValueError: for any shape or argument the operation cannot take; the message names the
            argument and its legal values.
        TypeError: for arguments of the wrong type.
    """
    ndim = len(weight_shape) - 2
    if ndim < 1:
        raise ValueError(
            f"weight: expected (in_channels, out_channels // groups, *kernel_size); got shape {tuple(weight_shape)}"
        )
    if len(input_shape) != ndim + 2:
        raise ValueError(
            f"input: expected {ndim + 2} dimensions (N, C, *spatial) for a {ndim}-d weight; got shape "
            f"{tuple(input_shape)}"
        )
    groups = check_groups(groups)
    batch, in_channels, *input_size = (int(v) for v in input_shape)
    weight_in, out_per_group, *kernel_size = (int(v) for v in weight_shape)
    if in_channels != weight_in:
        raise ValueError(
            f"input: has {in_channels} channels but weight expects {weight_in} (weight.shape[0] = in_channels)"
        )
    if in_channels % groups:
        raise ValueError(f"groups: in_channels ({in_channels}) must be divisible by groups ({groups})")
    if min(kernel_size) < 1 or out_per_group < 1:
        raise ValueError(f"weight: every dimension must be >= 1; got shape {tuple(weight_shape)}")
    if min(input_size, default=1) < 1:
        raise ValueError(f"input: every spatial size must be >= 1; got shape {tuple(input_shape)}")
    out_channels = out_per_group * groups
    if has_bias and tuple(bias_shape or ()) != (out_channels,):
        raise ValueError(f"bias: expected shape ({out_channels},) (out_channels); got {tuple(bias_shape or ())}")

    stride = per_axis(stride, ndim, "stride", minimum=1)
    dilation = per_axis(dilation, ndim, "dilation", minimum=1)
    output_padding = per_axis(output_padding, ndim, "output_padding", minimum=0)
    for axis, (op, s, d) in enumerate(zip(output_padding, stride, dilation)):
        if op >= max(s, d):
            raise ValueError(
                f"output_padding: {op} on spatial axis {axis} must be smaller than max(stride, dilation) = {max(s, d)}"
            )
    rules = parse_padding(padding, ndim)
    sizes = _output_size(output_size, ndim, batch, out_channels)

    windows = tuple(
        axis_window(i, k, s, d, op, rule, n, axis=axis)
        for axis, (i, k, s, d, op, rule, n) in enumerate(
            zip(input_size, kernel_size, stride, dilation, output_padding, rules, sizes)
        )
    )
    return ConvTransposePlan(
        batch=batch,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        input_size=tuple(input_size),
        kernel_size=tuple(kernel_size),
        stride=stride,
        dilation=dilation,
        windows=windows,
        has_bias=has_bias,
        dtype=dtype,
        device_type=device_type,
        channels_last=channels_last,
        requires_grad=requires_grad,
    )


def _output_size(output_size: object, ndim: int, batch: int, channels: int) -> tuple[int | None, ...]:
    if output_size is None:
        return (None,) * ndim
    if isinstance(output_size, torch.Size):
        output_size = tuple(output_size)
    if not isinstance(output_size, Sequence) or isinstance(output_size, str):
        raise TypeError(
            f"output_size: expected a sequence of {ndim} ints (or {ndim + 2} with N and C); got {output_size!r}"
        )
    sizes = list(output_size)
    if len(sizes) == ndim + 2:
        sizes = sizes[2:]
    if len(sizes) != ndim:
        raise ValueError(
            f"output_size: expected {ndim} spatial sizes (or {ndim + 2} with N and C); got {output_size!r}"
        )
    return per_axis(tuple(sizes), ndim, "output_size", minimum=1)
