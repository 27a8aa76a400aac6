"""The public custom convolutions: check the tensors, plan, pick an algorithm, run it."""

from __future__ import annotations

from typing import Optional

import torch

from ..core import entry
from ..core.dispatch import Choice
from ..kernels.ops import F_CONV
from . import DISPATCHER
from .plan import plan_custom_conv

#: The custom convolutions' way in (:class:`tconv.core.entry.Op`).
OP = entry.Op("custom_conv", DISPATCHER, plan_custom_conv, "(out_channels, in_channels // groups, *kernel_size)")


def custom_conv(
    ndim: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    *,
    combine: object = None,
    reduce: object = "sum",
    padding_mode: str = "zeros",
    max_memory: Optional[int] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """A custom convolution with ``ndim`` spatial axes; see :func:`custom_conv2d`."""
    plain_conv = combine is None or _named(combine, "mul")
    if (
        plain_conv
        and _named(reduce, "sum")
        and _named(padding_mode, "zeros")
        and max_memory is None
        and _named(algorithm, "auto")
    ):
        out = _torch_conv(ndim, input, weight, bias, stride, padding, dilation, groups)
        if out is not None:
            return out
    arguments = dict(
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        combine=combine,
        reduce=reduce,
        padding_mode=padding_mode,
        max_memory=max_memory,
    )
    return OP(ndim, input, weight, bias, algorithm, arguments)


def _named(value: object, name: str) -> bool:
    """``value`` is the string ``name`` (compared only when it is a string: arrays compare oddly)."""
    return isinstance(value, str) and value == name


def _torch_conv(ndim: int, input, weight, bias, stride, padding, dilation, groups) -> Optional[torch.Tensor]:
    """``mul``/``sum`` with zero padding is ``F.convNd`` itself (the ``conv`` algorithm would call
    exactly it), run here without planning: about 17 µs less per call. Only for arguments plain
    enough that PyTorch refuses whatever tconv refuses (ints, tuples of one int per axis, real
    floating-point tensors); None when they are not, or when PyTorch refuses them, so that the
    planned path raises tconv's own error."""
    plain = lambda v: type(v) is int or (type(v) is tuple and len(v) == ndim and all(type(i) is int for i in v))  # noqa: E731
    if not (
        plain(stride) and plain(padding) and plain(dilation) and type(groups) is int and isinstance(input, torch.Tensor)
    ):
        return None
    if not input.is_floating_point():
        return None
    try:
        return F_CONV[ndim](input, weight, bias, stride, padding, dilation, groups)
    except (RuntimeError, TypeError, ValueError):
        return None


def explain_custom(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    *,
    algorithm: str = "auto",
    **arguments,
) -> Choice:
    """Which algorithm :func:`custom_conv2d` (or 1d, 3d, by the weight) runs for these arguments
    (its keyword arguments), and why the others don't; the same as
    ``tconv.explain(tconv.custom_conv2d, input, weight, bias, **arguments)``."""
    return OP.explain(None, input, weight, bias, algorithm, arguments)


@entry.public(OP, 1)
def custom_conv1d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    *,
    combine=None,
    reduce="sum",
    padding_mode="zeros",
    max_memory=None,
    algorithm="auto",
) -> torch.Tensor:
    """1-d :func:`custom_conv2d`: input ``(N, Cin, L)`` or ``(Cin, L)``, weight ``(Cout, Cin // groups, k)``."""
    return custom_conv(
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
        combine=combine,
        reduce=reduce,
        padding_mode=padding_mode,
        max_memory=max_memory,
        algorithm=algorithm,
    )


@entry.public(OP, 2)
def custom_conv2d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    *,
    combine=None,
    reduce="sum",
    padding_mode="zeros",
    max_memory=None,
    algorithm="auto",
) -> torch.Tensor:
    """A convolution with your own function of (sample, weight) and your own reduction.

    ``out[n, o, p] = reduce over (c, tap) of combine(x_patch[n, c, p, tap], weight[o, c, tap]) + bias[o]``,
    where ``x_patch`` are the windows ``F.unfold`` would take of the input padded in
    ``padding_mode`` (padded samples take part), ``c`` runs over the ``Cin // groups`` channels of
    ``o``'s group. ``combine=None`` with ``reduce="sum"`` is ``F.conv2d``. Nothing of size
    ``N * Cout * positions * Cin/groups * taps`` is stored: the work runs in chunks whose
    intermediates fit ``max_memory``, forward and backward (the backward recomputes them).

    Args:
        input: ``(N, Cin, H, W)`` or unbatched ``(Cin, H, W)``; any layout (channels_last kept).
        weight: ``(Cout, Cin // groups, kH, kW)``, as in ``nn.Conv2d``.
        bias: ``(Cout,)`` or None; added after the reduction.
        stride, dilation, groups: as in ``F.conv2d``.
        padding: an int, one int per axis, ``"same"`` (stride 1 only) or ``"valid"``.
        combine: ``None``/``"mul"`` (x * w), ``"add"`` (x + w), ``"sub"`` (x - w),
            ``"abs_diff"`` (|x - w|), ``"sq_diff"`` ((x - w)^2), or a callable ``f(x, w)`` of
            broadcasting torch ops, elementwise: it gets two tensors that broadcast to the
            combined shape (layout unspecified) and must return that shape.
        reduce: ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, ``"logsumexp"``, or a callable
            ``f(t, dim)`` that removes dimension ``dim`` of ``t``, which holds a window's
            (tap, channel) pairs, tap-major. ``max``/``min`` send the gradient to the first
            winning pair in that order when several tie (a valid subgradient).
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        max_memory: bytes the intermediates (the expanded tensor and its temporaries) may take;
            None means 32 MiB. The input, output and gradients are not counted.
        algorithm: ``"auto"``, ``"conv"``, ``"compiled"``, ``"chunked"``, ``"unfold"`` or
            ``"reference"`` (float64); see :func:`explain_custom`.

    Returns:
        ``(N, Cout, Hout, Wout)``, sized as ``F.conv2d``'s output.

    Raises:
        ValueError: an argument the op cannot take (the message names it and the legal values),
            a ``combine`` or ``reduce`` that changes shapes, a ``max_memory`` too small for one
            output position, or a forced ``algorithm`` that cannot run the problem.
        TypeError: a non-tensor, a non-floating dtype, operands of different dtypes, or a
            ``combine``/``reduce`` that is neither a preset name nor callable.

    Gradients: presets have hand-written derivatives; callables are differentiated by
    ``torch.func.vjp`` of each recomputed chunk. Where ``abs_diff``'s ``x == w`` exactly (it
    happens in float32), the slope is taken as -1 in ``x`` and +1 in ``w``, a valid subgradient
    (autograd's ``abs`` takes 0). Double backward is not supported.
    """
    return custom_conv(
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
        combine=combine,
        reduce=reduce,
        padding_mode=padding_mode,
        max_memory=max_memory,
        algorithm=algorithm,
    )


@entry.public(OP, 3)
def custom_conv3d(
    input,
    weight,
    bias=None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    *,
    combine=None,
    reduce="sum",
    padding_mode="zeros",
    max_memory=None,
    algorithm="auto",
) -> torch.Tensor:
    """3-d :func:`custom_conv2d`: input ``(N, Cin, D, H, W)`` or unbatched, weight
    ``(Cout, Cin // groups, kD, kH, kW)``."""
    return custom_conv(
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        dilation,
        groups,
        combine=combine,
        reduce=reduce,
        padding_mode=padding_mode,
        max_memory=max_memory,
        algorithm=algorithm,
    )
