"""Custom-convolution modules: ``CustomConv{1,2,3}d``, over :func:`tconv.custom_conv2d` and its kin."""

from __future__ import annotations

from typing import Optional

import torch

from ..core.plan import per_axis
from ..custom.functional import custom_conv
from ..custom.plan import COMBINES, REDUCES, check_function, check_max_memory
from .base import _ConvLikeNd


class _CustomConvNd(_ConvLikeNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        dilation: object = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: object = None,
        dtype: Optional[torch.dtype] = None,
        *,
        combine: object = None,
        reduce: object = "sum",
        max_memory: Optional[int] = None,
        algorithm: str = "auto",
    ) -> None:
        stride = per_axis(stride, self.ndim, "stride", minimum=1)
        check_function(combine, "combine", COMBINES, default="mul")
        check_function(reduce, "reduce", REDUCES, default="sum")
        check_max_memory(max_memory)
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            algorithm,
        )
        self.stride = stride
        self.combine = combine
        self.reduce = reduce
        self.max_memory = max_memory

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """See :func:`tconv.custom_conv2d`."""
        return custom_conv(
            self.ndim,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            combine=self.combine,
            reduce=self.reduce,
            padding_mode=self.padding_mode,
            max_memory=self.max_memory,
            algorithm=self.algorithm,
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        text += self._conv_repr()
        for name in ("combine", "reduce"):
            value = getattr(self, name)
            text += f", {name}={getattr(value, '__name__', value)!r}" if callable(value) else f", {name}={value!r}"
        if self.max_memory is not None:
            text += f", max_memory={self.max_memory}"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
        return text


class CustomConv1d(_CustomConvNd):
    """A 1-d convolution with your own ``combine`` and ``reduce``, with ``nn.Conv1d``'s arguments
    and parameters. See :func:`tconv.custom_conv1d`."""

    ndim = 1


class CustomConv2d(_CustomConvNd):
    """A 2-d convolution with your own ``combine`` and ``reduce``, with ``nn.Conv2d``'s arguments
    and parameters. See :func:`tconv.custom_conv2d`."""

    ndim = 2


class CustomConv3d(_CustomConvNd):
    """A 3-d convolution with your own ``combine`` and ``reduce``, with ``nn.Conv3d``'s arguments
    and parameters. See :func:`tconv.custom_conv3d`."""

    ndim = 3


CUSTOM_CONV = {1: CustomConv1d, 2: CustomConv2d, 3: CustomConv3d}
