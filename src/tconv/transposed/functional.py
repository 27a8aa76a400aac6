"""The public transposed convolutions: check the tensors, plan, pick an algorithm, run it."""

from __future__ import annotations

from typing import Optional, Sequence

import torch

from ..core import entry
from ..core.dispatch import Choice
from . import DISPATCHER
from .plan import ConvTransposePlan, plan_conv_transpose

#: The transposed convolutions' way in (:class:`tconv.core.entry.Op`).
OP = entry.Op(
    "conv_transpose",
    DISPATCHER,
    plan_conv_transpose,
    "(in_channels, out_channels // groups, *kernel_size)",
    complex=True,
)


def plan_for(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
) -> ConvTransposePlan:
    """The plan of a batched call with these tensors (shapes, dtype, device and layout); plans
    are cached per distinct call."""
    arguments = dict(
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        output_size=output_size,
    )
    return entry.plan_call(plan_conv_transpose, input, weight, bias, arguments)


def conv_transpose(
    ndim: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """A transposed convolution with ``ndim`` spatial axes; see :func:`conv_transpose2d`."""
    arguments = dict(
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        output_size=output_size,
    )
    return OP(ndim, input, weight, bias, algorithm, arguments)


def explain(*args: object, **kwargs: object) -> Choice:
    """Which algorithm a tconv op runs for these arguments, and why the others don't.

    ``explain(tconv.upsample_conv2d, x, w, scale_factor=2)`` takes any public op and its
    arguments; without the op, ``explain(x, w, stride=2, ...)`` takes the arguments of
    :func:`conv_transpose2d` (the number of spatial axes read from the weight). ``str()`` of the
    result is a readable report; with autotuning on, this may time the capable algorithms (as the
    call itself would).
    """
    if args and callable(args[0]) and not isinstance(args[0], torch.Tensor):
        return entry.explain(*args, **kwargs)
    return OP.explain(None, *entry.bind(conv_transpose2d, *args, **kwargs))


@entry.public(OP, 1)
def conv_transpose1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """1-d transposed convolution; see :func:`conv_transpose2d`.

    Shapes: input ``(N, Cin, L)`` or ``(Cin, L)``; weight ``(Cin, Cout // groups, k)``;
    output ``(N, Cout, Lout)`` or ``(Cout, Lout)``.
    """
    return conv_transpose(
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size=output_size,
        algorithm=algorithm,
    )


@entry.public(OP, 2)
def conv_transpose2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """2-d transposed convolution in any framework's padding vocabulary.

    Same positional arguments and meaning as :func:`torch.nn.functional.conv_transpose2d`, with
    more ways to say the padding. Per axis the result is a window of the full output
    ``(i - 1) * stride + (k - 1) * dilation + 1`` long (see :mod:`tconv.core.geometry`).

    Args:
        input: ``(N, Cin, H, W)`` or unbatched ``(Cin, H, W)``; any layout (channels_last kept).
        weight: ``(Cin, Cout // groups, kH, kW)`` (PyTorch/ONNX layout; see
            :func:`tconv.convert_weight` for others).
        bias: ``(Cout,)`` or None.
        stride, dilation: int or one int per axis, each >= 1.
        padding: an int or one int per axis (PyTorch: crop that many samples at both ends);
            ``"valid"`` (no crop); ``"same"`` / ``"same_upper"`` (TF, ONNX SAME_UPPER: output =
            input × stride, the odd crop at the end); ``"same_lower"`` (ONNX: the odd crop at the
            start); or one ``(begin, end)`` pair per axis (ONNX ``pads``, TF explicit padding).
        output_padding: int or per axis, each < max(stride, dilation): zeros appended to the full
            output before the crop.
        groups: channel groups.
        output_size: the spatial output size (TF/ONNX ``output_shape``, torch ``output_size``;
            ``(N, C, H, W)`` also accepted). Raises with the legal range if the padding cannot
            give it.
        algorithm: ``"auto"`` or an algorithm name from :data:`tconv.transposed.ALGORITHMS`.

    Returns:
        ``(N, Cout, Hout, Wout)`` (or unbatched ``(Cout, Hout, Wout)``), in the input's dtype and layout.

    Raises:
        ValueError: a shape or argument the operation cannot take (the message names it and the
            legal values); also when the forced ``algorithm`` cannot run the problem.
        TypeError: a non-tensor, a non-floating dtype, or operands of different dtypes.
    """
    return conv_transpose(
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size=output_size,
        algorithm=algorithm,
    )


@entry.public(OP, 3)
def conv_transpose3d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """3-d transposed convolution; see :func:`conv_transpose2d`.

    Shapes: input ``(N, Cin, D, H, W)`` or ``(Cin, D, H, W)``; weight ``(Cin, Cout // groups, kD, kH, kW)``.
    """
    return conv_transpose(
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
        output_size=output_size,
        algorithm=algorithm,
    )
