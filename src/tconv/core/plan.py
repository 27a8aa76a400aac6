"""What every plan shares: the facts of its tensors, and the argument checks of every family.

A plan is a frozen dataclass of pure Python (shapes, dtype, device type, layout; no tensors) that
reduces one call to the numbers its algorithms read. Every family's plan extends
:class:`TensorFacts`. The checks here answer bad arguments with a ``ValueError``/``TypeError``
naming the argument and its legal values; they serve every family and the modules of
:mod:`tconv.nn`. Shapes are computed in :mod:`tconv.core.geometry`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Sequence

import torch

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

    def problem_key(self) -> str:
        """A string naming the problem for the autotune cache: equal for equal plans, the same in
        every process. Plans holding Python functions return ``""`` (not kept on disk)."""
        return repr(self)


def channels_last_unreliable(plan: TensorFacts) -> str:
    """Why PyTorch's channels-last convolutions must not run this problem; empty when they may.

    On the CPU, PyTorch's bfloat16 convolutions on channels-last data (oneDNN) compute wrong
    weight gradients for some small 2-d and 3-d shapes (relative errors of 0.2 to 1e13: memory
    never written) and crash on others (a width-1 input with a dilated kernel); channels-first
    data and the other dtypes are right (measured with PyTorch 2.13; the cases are in
    ``tests/test_functional.py``). So no algorithm converts to channels-last there, and ``native``
    computes a channels-last input of that kind channels-first.
    """
    if plan.device_type == "cpu" and plan.dtype == torch.bfloat16 and plan.requires_grad:
        return "bfloat16 gradients of PyTorch's channels-last CPU convolutions are wrong for some shapes"
    return ""


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


def check_groups(groups: object) -> int:
    """``groups`` as an int >= 1."""
    if not isinstance(groups, Integral) or isinstance(groups, bool):
        raise TypeError(f"groups: expected an int; got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups: must be >= 1; got {groups}")
    return int(groups)


def conv_channels(input_shape, weight_shape, groups, tensors) -> tuple[int, tuple[int, int, int]]:
    """Check the shapes of a convolution (weight ``(Cout, Cin // groups, *kernel)``, 1 to 3 spatial
    axes) and its bias: ``(ndim, (in_channels, out_channels, groups))``."""
    ndim = len(weight_shape) - 2
    if ndim not in (1, 2, 3):
        raise ValueError(
            "weight: expected (out_channels, in_channels // groups, *kernel_size) with 1 to 3 spatial axes; "
            f"got shape {tuple(weight_shape)}"
        )
    if len(input_shape) != ndim + 2:
        raise ValueError(
            f"input: expected {ndim + 2} dimensions (N, C, *spatial) for a {ndim}-d weight; got shape "
            f"{tuple(input_shape)}"
        )
    groups = check_groups(groups)
    in_channels, out_channels = int(input_shape[1]), int(weight_shape[0])
    if min(weight_shape) < 1:
        raise ValueError(f"weight: every dimension must be >= 1; got shape {tuple(weight_shape)}")
    if min(input_shape[2:]) < 1:
        raise ValueError(f"input: every spatial size must be >= 1; got shape {tuple(input_shape)}")
    if in_channels != int(weight_shape[1]) * groups:
        raise ValueError(
            f"input: has {in_channels} channels but the weight expects weight.shape[1] * groups = "
            f"{int(weight_shape[1]) * groups}"
        )
    if out_channels % groups:
        raise ValueError(
            f"groups: out_channels (weight.shape[0] = {out_channels}) must be divisible by groups ({groups})"
        )
    if tensors.get("has_bias") and tuple(tensors.get("bias_shape") or ()) != (out_channels,):
        raise ValueError(
            f"bias: expected shape ({out_channels},) (out_channels); got {tuple(tensors.get('bias_shape') or ())}"
        )
    return ndim, (in_channels, out_channels, groups)


def check_padding_mode(padding_mode: object) -> str:
    """``padding_mode`` as ``nn.ConvNd`` takes it."""
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode: expected one of {', '.join(map(repr, PADDING_MODES))}; got {padding_mode!r}")
    return str(padding_mode)
