"""Planning a transposed convolution: every argument checked, every axis reduced to its window.

A :class:`ConvTransposePlan` is pure Python (shapes, dtype, device type; no tensors). Algorithms
read it to say whether they can run a problem and to run it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from numbers import Integral
from typing import Sequence

import torch

from .geometry import AxisWindow, Polyphase, axis_window, parse_padding, polyphase


#: The channels-last memory format of each number of spatial axes that has one.
CHANNELS_LAST = {2: torch.channels_last, 3: torch.channels_last_3d}
#: The padding modes of ``nn.ConvNd``.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@dataclass(frozen=True, kw_only=True)
class TensorFacts:
    """What a plan knows of its tensors besides their shapes (keyword-only fields of every plan).

    Attributes:
        has_bias: whether a bias is added.
        dtype, device_type: of the input (and weight).
        channels_last: whether the input is stored channels-last (2-d and 3-d only).
        requires_grad: whether any operand needs a gradient.
    """

    has_bias: bool = False
    dtype: torch.dtype = torch.float32
    device_type: str = "cpu"
    channels_last: bool = False
    requires_grad: bool = False

    @property
    def memory_format(self) -> torch.memory_format:
        """The layout outputs are returned in: the input's."""
        return CHANNELS_LAST[self.ndim] if self.channels_last else torch.contiguous_format


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
        lean: hold less memory where that costs little speed (see :func:`in_halves`); the
            fused ops ask it for their transposed convolution.

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
        """Per axis, the polyphase split of the window (see :class:`tconv.geometry.Polyphase`)."""
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


def in_halves(plan: TensorFacts) -> bool:
    """Whether an algorithm may run the batch in two halves written straight into the output
    (``out=``, so no autograd and no autocast): CPU inference on two or more channels-first
    samples. PyTorch's CPU convolutions hold output-sized buffers next to their result (its NCHW
    transposed convolution three in all), so halves peak lower at about the same speed
    (BENCHMARKS.md)."""
    return (
        plan.device_type == "cpu"
        and plan.batch >= 2
        and not plan.requires_grad
        and not plan.channels_last
        and not torch.is_autocast_enabled("cpu")
        and not torch.compiler.is_compiling()
    )


def per_axis(value: object, ndim: int, name: str, *, minimum: int) -> tuple[int, ...]:
    """An int or one int per axis, each at least ``minimum``."""
    values = (value,) * ndim if isinstance(value, Integral) else value
    if not isinstance(values, Sequence) or isinstance(values, str):
        raise TypeError(f"{name}: expected an int or {ndim} ints (one per spatial axis); got {value!r}")
    if len(values) != ndim:
        raise ValueError(f"{name}: expected an int or {ndim} ints (one per spatial axis); got {value!r}")
    for entry in values:
        if not isinstance(entry, Integral) or isinstance(entry, bool):
            raise TypeError(f"{name}: expected ints; got {entry!r} of type {type(entry).__name__}")
        if entry < minimum:
            raise ValueError(f"{name}: every entry must be >= {minimum}; got {value!r}")
    return tuple(int(entry) for entry in values)


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
        raise ValueError(f"weight: expected (in_channels, out_channels // groups, *kernel_size); got shape {tuple(weight_shape)}")
    if len(input_shape) != ndim + 2:
        raise ValueError(f"input: expected {ndim + 2} dimensions (N, C, *spatial) for a {ndim}-d weight; got shape {tuple(input_shape)}")
    if not isinstance(groups, Integral) or isinstance(groups, bool):
        raise TypeError(f"groups: expected an int; got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups: must be >= 1; got {groups}")
    groups = int(groups)
    batch, in_channels, *input_size = (int(v) for v in input_shape)
    weight_in, out_per_group, *kernel_size = (int(v) for v in weight_shape)
    if in_channels != weight_in:
        raise ValueError(f"input: has {in_channels} channels but weight expects {weight_in} (weight.shape[0] = in_channels)")
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
        raise TypeError(f"output_size: expected a sequence of {ndim} ints (or {ndim + 2} with N and C); got {output_size!r}")
    sizes = list(output_size)
    if len(sizes) == ndim + 2:
        sizes = sizes[2:]
    if len(sizes) != ndim:
        raise ValueError(f"output_size: expected {ndim} spatial sizes (or {ndim + 2} with N and C); got {output_size!r}")
    return per_axis(tuple(sizes), ndim, "output_size", minimum=1)


# --- forward convolutions (the fused and custom ops take nn.ConvNd's arguments) ---


def conv_channels(input_shape, weight_shape, groups, tensors) -> tuple[int, tuple[int, int, int]]:
    """Check the shapes of a convolution (weight ``(Cout, Cin // groups, *kernel)``, 1 to 3 spatial
    axes) and its bias: ``(ndim, (in_channels, out_channels, groups))``."""
    ndim = len(weight_shape) - 2
    if ndim not in (1, 2, 3):
        raise ValueError(f"weight: expected (out_channels, in_channels // groups, *kernel_size) with 1 to 3 spatial axes; got shape {tuple(weight_shape)}")
    if len(input_shape) != ndim + 2:
        raise ValueError(f"input: expected {ndim + 2} dimensions (N, C, *spatial) for a {ndim}-d weight; got shape {tuple(input_shape)}")
    if not isinstance(groups, Integral) or isinstance(groups, bool):
        raise TypeError(f"groups: expected an int; got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups: must be >= 1; got {groups}")
    groups = int(groups)
    in_channels, out_channels = int(input_shape[1]), int(weight_shape[0])
    if min(weight_shape) < 1:
        raise ValueError(f"weight: every dimension must be >= 1; got shape {tuple(weight_shape)}")
    if min(input_shape[2:]) < 1:
        raise ValueError(f"input: every spatial size must be >= 1; got shape {tuple(input_shape)}")
    if in_channels != int(weight_shape[1]) * groups:
        raise ValueError(
            f"input: has {in_channels} channels but the weight expects weight.shape[1] * groups = {int(weight_shape[1]) * groups}"
        )
    if out_channels % groups:
        raise ValueError(f"groups: out_channels (weight.shape[0] = {out_channels}) must be divisible by groups ({groups})")
    if tensors.get("has_bias") and tuple(tensors.get("bias_shape") or ()) != (out_channels,):
        raise ValueError(f"bias: expected shape ({out_channels},) (out_channels); got {tuple(tensors.get('bias_shape') or ())}")
    return ndim, (in_channels, out_channels, groups)


def check_padding_mode(padding_mode: object) -> str:
    """``padding_mode`` as ``nn.ConvNd`` takes it."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode: expected one of {', '.join(map(repr, PADDING_MODES))}; got {padding_mode!r}")
    return str(padding_mode)


def conv_padding(padding, ndim, kernel, dilation, *, strided) -> tuple[tuple[int, int], ...]:
    """``(begin, end)`` per axis, as ``nn.ConvNd`` pads (``"same"``: the odd sample at the end)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding != "same":
            raise ValueError(f"padding: unknown padding {padding!r}; legal values are 'same', 'valid', an int or one int per axis")
        if strided:
            raise ValueError("padding: 'same' is not supported for strided convolutions (as in PyTorch); give the padding as ints")
        totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in per_axis(padding, ndim, "padding", minimum=0))
