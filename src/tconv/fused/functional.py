"""The public fused ops: check the tensors, plan, pick an algorithm, run it."""

from __future__ import annotations

from typing import Optional

import torch

from ..core import entry
from ..core.dispatch import Choice
from . import DISPATCHER
from .plan import plan_conv_pool, plan_upsample_conv

_WEIGHT = "(out_channels, in_channels // groups, *kernel_size)"
#: The fused ops' ways in (:class:`tconv.core.entry.Op`), by name.
OPS = {
    "upsample_conv": entry.Op("upsample_conv", DISPATCHER, plan_upsample_conv, _WEIGHT),
    "conv_pool": entry.Op("conv_pool", DISPATCHER, plan_conv_pool, _WEIGHT),
}


def _op(op: object) -> entry.Op:
    if op not in OPS:
        raise ValueError(f"op: expected one of {', '.join(map(repr, OPS))}; got {op!r}")
    return OPS[op]


def fused(op: str, ndim: int, input, weight, bias, *, algorithm: str = "auto", **arguments) -> torch.Tensor:
    """Run ``op`` (``"upsample_conv"`` or ``"conv_pool"``) with ``ndim`` spatial axes."""
    return _op(op)(ndim, input, weight, bias, algorithm, arguments)


def explain_fused(
    op: str,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    *,
    algorithm: str = "auto",
    **arguments,
) -> Choice:
    """Which algorithm ``op`` (``"upsample_conv"`` or ``"conv_pool"``) runs for these arguments (the
    keyword arguments of :func:`upsample_conv2d` or :func:`conv_pool2d`), and why the others don't;
    the same as ``tconv.explain(tconv.upsample_conv2d, input, weight, bias, **arguments)``."""
    return _op(op).explain(None, input, weight, bias, algorithm, arguments)


def upsample_conv(
    ndim: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    scale_factor: object = 2,
    mode: str = "nearest",
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    align_corners: Optional[bool] = None,
    *,
    algorithm: str = "auto",
) -> torch.Tensor:
    """Upsampling then a convolution with ``ndim`` spatial axes; see :func:`upsample_conv2d`."""
    return fused(
        "upsample_conv",
        ndim,
        input,
        weight,
        bias,
        algorithm=algorithm,
        scale_factor=scale_factor,
        mode=mode,
        padding=padding,
        dilation=dilation,
        groups=groups,
        padding_mode=padding_mode,
        align_corners=align_corners,
    )


def conv_pool(
    ndim: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    pool_size: object = 2,
    padding_mode: str = "zeros",
    *,
    algorithm: str = "auto",
) -> torch.Tensor:
    """A convolution then average pooling with ``ndim`` spatial axes; see :func:`conv_pool2d`."""
    return fused(
        "conv_pool",
        ndim,
        input,
        weight,
        bias,
        algorithm=algorithm,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        pool_size=pool_size,
        padding_mode=padding_mode,
    )


@entry.public(OPS["upsample_conv"], 1)
def upsample_conv1d(
    input,
    weight,
    bias=None,
    scale_factor=2,
    mode="nearest",
    padding=0,
    dilation=1,
    groups=1,
    padding_mode="zeros",
    align_corners=None,
    *,
    algorithm="auto",
) -> torch.Tensor:
    """1-d :func:`upsample_conv2d`: input ``(N, Cin, L)`` or ``(Cin, L)``, weight ``(Cout, Cin // groups, k)``,
    output ``(N, Cout, Lout)``; the linear mode is ``"linear"``."""
    return upsample_conv(
        1,
        input,
        weight,
        bias,
        scale_factor,
        mode,
        padding,
        dilation,
        groups,
        padding_mode,
        align_corners,
        algorithm=algorithm,
    )


@entry.public(OPS["upsample_conv"], 2)
def upsample_conv2d(
    input,
    weight,
    bias=None,
    scale_factor=2,
    mode="nearest",
    padding=0,
    dilation=1,
    groups=1,
    padding_mode="zeros",
    align_corners=None,
    *,
    algorithm="auto",
) -> torch.Tensor:
    """Upsampling followed by a stride-1 convolution, fused and exact.

    Equal to ``F.conv2d(F.interpolate(input, scale_factor=scale_factor, mode=mode,
    align_corners=align_corners), weight, bias, 1, padding, dilation, groups)``, with
    ``padding_mode`` meaning what it means in :class:`torch.nn.Conv2d` (the upsampled tensor is
    padded in that mode), without building the upsampled tensor: for nearest and linear
    (``align_corners=False``) upsampling the pair is one stride-``scale_factor`` transposed
    convolution with a composed kernel, its borders recomputed exactly where the composed kernel
    would differ (see :mod:`tconv.fused`).

    Args:
        input: ``(N, Cin, H, W)`` or unbatched ``(Cin, H, W)``; any layout (channels_last kept).
        weight: ``(Cout, Cin // groups, kH, kW)``, the convolution's weight as in ``nn.Conv2d``.
        bias: ``(Cout,)`` or None.
        scale_factor: an integer (or one per axis) >= 1; ``2.0`` is accepted, ``1.5`` is not.
        mode: ``"nearest"``, ``"nearest-exact"`` (the same for integer factors) or ``"bilinear"``.
        padding: an int, one int per axis, ``"same"`` or ``"valid"``, of the upsampled tensor.
        dilation, groups: of the convolution.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        align_corners: for ``"bilinear"`` only (None means False). True runs the plain
            composition: its sampling grid has no composed kernel.
        algorithm: ``"auto"``, ``"composed"``, ``"naive"`` or ``"reference"`` (float64).

    Returns:
        ``(N, Cout, Hout, Wout)`` with ``Hout = H * scale + pad_begin + pad_end - dilation * (kH - 1)``.

    Raises:
        ValueError: an argument the op cannot take (the message names it and the legal values),
            or a forced ``algorithm`` that cannot run the problem.
        TypeError: a non-tensor, a non-floating dtype, or operands of different dtypes.
    """
    return upsample_conv(
        2,
        input,
        weight,
        bias,
        scale_factor,
        mode,
        padding,
        dilation,
        groups,
        padding_mode,
        align_corners,
        algorithm=algorithm,
    )


@entry.public(OPS["upsample_conv"], 3)
def upsample_conv3d(
    input,
    weight,
    bias=None,
    scale_factor=2,
    mode="nearest",
    padding=0,
    dilation=1,
    groups=1,
    padding_mode="zeros",
    align_corners=None,
    *,
    algorithm="auto",
) -> torch.Tensor:
    """3-d :func:`upsample_conv2d`: input ``(N, Cin, D, H, W)`` or unbatched, weight
    ``(Cout, Cin // groups, kD, kH, kW)``; the linear mode is ``"trilinear"``."""
    return upsample_conv(
        3,
        input,
        weight,
        bias,
        scale_factor,
        mode,
        padding,
        dilation,
        groups,
        padding_mode,
        align_corners,
        algorithm=algorithm,
    )


@entry.public(OPS["conv_pool"], 1)
def conv_pool1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    pool_size=2,
    padding_mode="zeros",
    *,
    algorithm="auto",
) -> torch.Tensor:
    """1-d :func:`conv_pool2d`: input ``(N, Cin, L)`` or ``(Cin, L)``, weight ``(Cout, Cin // groups, k)``."""
    return conv_pool(
        1, input, weight, bias, stride, padding, dilation, groups, pool_size, padding_mode, algorithm=algorithm
    )


@entry.public(OPS["conv_pool"], 2)
def conv_pool2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    pool_size=2,
    padding_mode="zeros",
    *,
    algorithm="auto",
) -> torch.Tensor:
    """A convolution followed by average pooling, fused and exact.

    Equal to ``F.avg_pool2d(conv(input), pool_size)`` (pooling kernel = stride = ``pool_size``,
    floor mode), where ``conv`` is :class:`torch.nn.Conv2d`'s with these arguments and
    ``padding_mode``. The pair is one convolution with stride ``stride * pool_size`` and a kernel
    composed of ``pool_size`` shifted copies of the weight, so the unpooled tensor is never built;
    outputs whose window reads non-zero padding are recomputed exactly (see :mod:`tconv.fused`).

    Args:
        input: ``(N, Cin, H, W)`` or unbatched ``(Cin, H, W)``.
        weight: ``(Cout, Cin // groups, kH, kW)``.
        bias: ``(Cout,)`` or None.
        stride, dilation, groups: of the convolution.
        padding: an int, one int per axis, ``"same"`` (stride 1 only) or ``"valid"``.
        pool_size: an int or one per axis, >= 1.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        algorithm: ``"auto"``, ``"composed"``, ``"naive"`` or ``"reference"`` (float64).

    Returns:
        ``(N, Cout, Hout // pool, Wout // pool)`` where ``Hout, Wout`` is the convolution's output.

    Raises:
        ValueError: an argument the op cannot take, naming it and the legal values.
        TypeError: a non-tensor, a non-floating dtype, or operands of different dtypes.
    """
    return conv_pool(
        2, input, weight, bias, stride, padding, dilation, groups, pool_size, padding_mode, algorithm=algorithm
    )


@entry.public(OPS["conv_pool"], 3)
def conv_pool3d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    pool_size=2,
    padding_mode="zeros",
    *,
    algorithm="auto",
) -> torch.Tensor:
    """3-d :func:`conv_pool2d`: input ``(N, Cin, D, H, W)`` or unbatched, weight
    ``(Cout, Cin // groups, kD, kH, kW)``."""
    return conv_pool(
        3, input, weight, bias, stride, padding, dilation, groups, pool_size, padding_mode, algorithm=algorithm
    )
