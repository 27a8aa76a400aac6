"""The shared part of :mod:`tconv.nn`: PyTorch's module tables, the base of the fused and custom
modules (a convolution's arguments and parameters, held as ``nn.ConvNd`` holds them), and the
helpers every family uses to create, initialise and share parameters and to check arguments.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Optional

import torch
from torch import nn

from ..core.geometry import conv_padding
from ..core.plan import check_padding_mode, per_axis


def _stored_padding(padding: object, ndim: int) -> tuple:
    """Padding as stored: one int or one ``(begin, end)`` pair per axis, as tuples."""
    if isinstance(padding, Integral):
        return (int(padding),) * ndim
    return tuple(int(entry) if isinstance(entry, Integral) else tuple(map(int, entry)) for entry in padding)


#: PyTorch's modules that the fused modules stand in for, per number of spatial axes.
TORCH_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
TORCH_CONV_TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
TORCH_AVG_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}


class _ConvLikeNd(nn.Module):
    """A convolution's arguments and parameters, held as ``nn.ConvNd`` holds them (names, shapes,
    initialisation and its order of random draws), for the fused and custom modules (:mod:`.fused`,
    :mod:`.custom`)."""

    ndim: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: object,
        stride: tuple[int, ...],
        padding: object,
        dilation: object,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: object,
        dtype: Optional[torch.dtype],
        algorithm: str,
    ) -> None:
        super().__init__()
        _check_channels(in_channels, out_channels, groups)
        check_padding_mode(padding_mode)
        if not isinstance(algorithm, str):
            raise TypeError(f"algorithm: expected a string; got {algorithm!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = per_axis(kernel_size, self.ndim, "kernel_size", minimum=1)
        self.dilation = per_axis(dilation, self.ndim, "dilation", minimum=1)
        # the fused ops' padding vocabulary: fail at construction, not at the first call
        conv_padding(padding, self.ndim, self.kernel_size, self.dilation, strided=stride != (1,) * self.ndim)
        self.padding = padding if isinstance(padding, str) else _stored_padding(padding, self.ndim)
        self.groups = groups
        self.padding_mode = padding_mode
        self.algorithm = algorithm
        _add_parameters(
            self,
            (out_channels, in_channels // groups, *self.kernel_size),
            out_channels if bias else None,
            device,
            dtype,
        )

    def reset_parameters(self) -> None:
        """PyTorch's initialisation of a convolution."""
        _init_like_torch(self.weight, self.bias)

    def _conv_repr(self) -> str:
        text = ""
        if self.padding != (0,) * self.ndim:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.ndim:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text


def _sharing(cls: type, conv: nn.Module, **arguments: object) -> nn.Module:
    """A ``cls`` with the channels, kernel, padding, dilation, groups and bias of the PyTorch module
    ``conv`` and ``arguments`` (the constructor checks them all), holding ``conv``'s parameters."""
    module = cls(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=conv.bias is not None,
        device="meta",  # no memory and no random draws; the parameters are replaced
        **arguments,
    )
    module.weight, module.bias = conv.weight, conv.bias
    return module


def _check_channels(in_channels: int, out_channels: int, groups: int) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: expected a positive int; got {value!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"groups: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups "
            f"({groups})"
        )


def _add_parameters(
    module: nn.Module, weight_shape: tuple[int, ...], bias_size: Optional[int], device: object, dtype: object
) -> None:
    """``weight`` and ``bias`` (None when ``bias_size`` is), initialised by ``reset_parameters``."""
    factory = {"device": device, "dtype": dtype}
    module.weight = nn.Parameter(torch.empty(weight_shape, **factory))
    if bias_size is None:
        module.register_parameter("bias", None)
    else:
        module.bias = nn.Parameter(torch.empty(bias_size, **factory))
    module.reset_parameters()


def _init_like_torch(weight: torch.Tensor, bias: Optional[torch.Tensor]) -> None:
    """PyTorch's initialisation of its convolutions, transposed or not, in its order of draws."""
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(weight)
        if fan_in:
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(bias, -bound, bound)


def _check_plain(module: object, name: str, types: object) -> None:
    """``module`` is exactly one of ``types`` (a subclass may compute differently) and has no hooks
    that a fused module would skip."""
    types = types if isinstance(types, tuple) else (types,)
    expected = " or ".join(f"torch.nn.{t.__name__}" for t in types)
    if not isinstance(module, nn.Module):
        raise TypeError(f"{name}: expected {expected}; got {type(module).__name__}")
    if type(module) not in types:
        subclass = " (a subclass, whose forward may differ)" if isinstance(module, types) else ""
        raise TypeError(f"{name}: expected {expected}; got {type(module).__name__}{subclass}")
    if module._forward_hooks or module._forward_pre_hooks or module._backward_hooks or module._backward_pre_hooks:
        raise ValueError(f"{name}: has hooks, which the fused module would not run")
