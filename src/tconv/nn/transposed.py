"""Transposed-convolution modules: ``ConvTranspose{1,2,3}d``, drop-in for PyTorch's, over
:func:`tconv.conv_transpose2d` and its kin."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from ..core.geometry import parse_padding
from ..core.plan import per_axis
from ..transposed.functional import conv_transpose
from .base import (
    TORCH_CONV_TRANSPOSE,
    _add_parameters,
    _check_channels,
    _check_plain,
    _init_like_torch,
    _sharing,
    _stored_padding,
)


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
        _check_channels(in_channels, out_channels, groups)
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
        weight_shape = (in_channels, out_channels // groups, *self.kernel_size)
        _add_parameters(self, weight_shape, out_channels if bias else None, device, dtype)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation of a transposed convolution."""
        _init_like_torch(self.weight, self.bias)

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

    @classmethod
    def from_module(cls, conv: nn.Module) -> "_ConvTransposeNd":
        """The same transposed convolution as ``conv`` (an ``nn.ConvTransposeNd`` with this module's
        number of spatial axes), sharing its parameters.

        Raises:
            TypeError: ``conv`` is not such a module (a subclass may compute differently).
            ValueError: it has hooks, which this module would not run.
        """
        _check_plain(conv, "conv", TORCH_CONV_TRANSPOSE[cls.ndim])
        return _sharing(cls, conv, stride=conv.stride, output_padding=conv.output_padding)

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
