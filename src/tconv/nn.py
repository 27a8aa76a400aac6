"""Modules: thin ``nn.Module`` wrappers over :mod:`tconv.functional`.

``ConvTranspose{1,2,3}d`` take the arguments of PyTorch's modules and hold parameters of the same
names, shapes and initialisation, so a PyTorch module's ``state_dict`` loads unchanged.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Optional, Sequence

import torch
from torch import nn

from .functional import conv_transpose
from .geometry import parse_padding
from .plan import per_axis


class _ConvTransposeNd(nn.Module):
    ndim: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        output_padding: object = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: object = 1,
        padding_mode: str = "zeros",
        device: object = None,
        dtype: Optional[torch.dtype] = None,
        *,
        algorithm: str = "auto",
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode: transposed convolutions support only 'zeros'; got {padding_mode!r}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive int; got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups ({groups})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = per_axis(kernel_size, self.ndim, "kernel_size", minimum=1)
        self.stride = per_axis(stride, self.ndim, "stride", minimum=1)
        self.dilation = per_axis(dilation, self.ndim, "dilation", minimum=1)
        self.output_padding = per_axis(output_padding, self.ndim, "output_padding", minimum=0)
        parse_padding(padding, self.ndim)  # fail at construction, not at the first call
        self.padding = padding if isinstance(padding, str) else _stored_padding(padding, self.ndim)
        self.groups = groups
        self.padding_mode = padding_mode
        self.algorithm = algorithm
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels // groups, *self.kernel_size, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's initialisation of a transposed convolution."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, input: torch.Tensor, output_size: Optional[Sequence[int]] = None) -> torch.Tensor:
        """See :func:`tconv.conv_transpose2d`; like PyTorch, ``output_size`` overrides ``output_padding``
        when the padding is PyTorch-style or explicit."""
        output_padding = self.output_padding
        if output_size is not None and not (isinstance(self.padding, str) and self.padding.lower().startswith("same")):
            output_padding = 0
        return conv_transpose(
            self.ndim,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
            output_size=output_size,
            algorithm=self.algorithm,
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.ndim:
            text += f", padding={self.padding!r}"
        if any(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.ndim:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
        return text


def _stored_padding(padding: object, ndim: int) -> tuple:
    """Padding as stored: one int or one ``(begin, end)`` pair per axis, as tuples."""
    if isinstance(padding, Integral):
        return (int(padding),) * ndim
    return tuple(int(entry) if isinstance(entry, Integral) else tuple(map(int, entry)) for entry in padding)


class ConvTranspose1d(_ConvTransposeNd):
    """Drop-in :class:`torch.nn.ConvTranspose1d` with tconv's padding vocabulary. See
    :func:`tconv.conv_transpose1d`."""

    ndim = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Drop-in :class:`torch.nn.ConvTranspose2d` with tconv's padding vocabulary. See
    :func:`tconv.conv_transpose2d`."""

    ndim = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Drop-in :class:`torch.nn.ConvTranspose3d` with tconv's padding vocabulary. See
    :func:`tconv.conv_transpose3d`."""

    ndim = 3


CONV_TRANSPOSE = {1: ConvTranspose1d, 2: ConvTranspose2d, 3: ConvTranspose3d}

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]
