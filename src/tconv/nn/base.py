"""Modules: thin ``nn.Module`` wrappers over :mod:`tconv.functional`, :mod:`tconv.fused` and :mod:`tconv.custom`.

``ConvTranspose{1,2,3}d`` take the arguments of PyTorch's modules and hold parameters of the same
names, shapes and initialisation, so a PyTorch module's ``state_dict`` loads unchanged.
``UpsampleConv{1,2,3}d``, ``ConvPool{1,2,3}d`` and ``CustomConv{1,2,3}d`` hold those of ``nn.Conv{1,2,3}d`` the same way;
they are not subclasses of it, so tools that fold or fuse plain convolutions leave them alone.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Optional, Sequence

import torch
from torch import nn

from ..custom.functional import custom_conv
from ..custom.plan import COMBINES, REDUCES, check_function, check_max_memory
from ..functional import conv_transpose
from ..fused.functional import conv_pool, upsample_conv
from ..fused.plan import check_mode, parse_scale_factor
from ..geometry import parse_padding
from ..plan import check_padding_mode, conv_padding, per_axis


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
        _add_parameters(self, (in_channels, out_channels // groups, *self.kernel_size), out_channels if bias else None, device, dtype)

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


#: PyTorch's modules that the fused modules stand in for, per number of spatial axes.
TORCH_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
TORCH_CONV_TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
TORCH_AVG_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}


class _ConvLikeNd(nn.Module):
    """A convolution's arguments and parameters, held as ``nn.ConvNd`` holds them (names, shapes,
    initialisation and its order of random draws), for the fused and custom modules below."""

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
        _add_parameters(self, (out_channels, in_channels // groups, *self.kernel_size), out_channels if bias else None, device, dtype)

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


class _UpsampleConvNd(_ConvLikeNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: object,
        scale_factor: object = 2,
        mode: str = "nearest",
        padding: object = 0,
        dilation: object = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        align_corners: Optional[bool] = None,
        device: object = None,
        dtype: Optional[torch.dtype] = None,
        *,
        algorithm: str = "auto",
    ) -> None:
        check_mode(mode, align_corners, self.ndim)
        parse_scale_factor(scale_factor, self.ndim)
        super().__init__(
            in_channels, out_channels, kernel_size, (1,) * self.ndim, padding, dilation, groups, bias, padding_mode, device,
            dtype, algorithm,
        )
        # as given (2.0 from nn.Upsample stays 2.0), lists as tuples
        self.scale_factor = tuple(scale_factor) if isinstance(scale_factor, Sequence) else scale_factor
        self.mode = mode
        self.align_corners = align_corners

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """See :func:`tconv.upsample_conv2d`."""
        return upsample_conv(
            self.ndim,
            input,
            self.weight,
            self.bias,
            self.scale_factor,
            self.mode,
            self.padding,
            self.dilation,
            self.groups,
            self.padding_mode,
            self.align_corners,
            algorithm=self.algorithm,
        )

    @classmethod
    def from_modules(cls, upsample: nn.Module, conv: nn.Module) -> "_UpsampleConvNd":
        """The fusion of ``nn.Sequential(upsample, conv)``, sharing ``conv``'s parameters.

        Args:
            upsample: an ``nn.Upsample`` (or ``nn.UpsamplingNearest2d``/``nn.UpsamplingBilinear2d``)
                with ``scale_factor`` set and ``size`` not.
            conv: an ``nn.ConvNd`` with this module's number of spatial axes and stride 1.

        Raises:
            TypeError: when a module is not of these types.
            ValueError: when their settings cannot be fused; the message says which and why.
        """
        _check_plain(upsample, "upsample", (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d))
        if upsample.size is not None or upsample.scale_factor is None:
            raise ValueError(
                f"upsample: must be given by scale_factor, not size (got size={upsample.size!r}); a fixed output size "
                "does not follow the input's"
            )
        _check_plain(conv, "conv", TORCH_CONV[cls.ndim])
        if conv.stride != (1,) * cls.ndim:
            raise ValueError(f"conv: the convolution after an upsampling must have stride 1; got stride={conv.stride}")
        # integer factors only (checked by the constructor): recompute_scale_factor changes nothing then
        return _sharing(
            cls, conv, padding_mode=conv.padding_mode, scale_factor=upsample.scale_factor, mode=upsample.mode,
            align_corners=upsample.align_corners,
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", scale_factor={self.scale_factor!r}, mode={self.mode!r}" + self._conv_repr()
        if self.align_corners is not None:
            text += f", align_corners={self.align_corners}"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
        return text


class _ConvPoolNd(_ConvLikeNd):
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
        pool_size: object = 2,
        device: object = None,
        dtype: Optional[torch.dtype] = None,
        *,
        algorithm: str = "auto",
    ) -> None:
        stride = per_axis(stride, self.ndim, "stride", minimum=1)
        pool_size = per_axis(pool_size, self.ndim, "pool_size", minimum=1)
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype, algorithm
        )
        self.stride = stride
        self.pool_size = pool_size

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """See :func:`tconv.conv_pool2d`."""
        return conv_pool(
            self.ndim,
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.pool_size,
            self.padding_mode,
            algorithm=self.algorithm,
        )

    @classmethod
    def from_modules(cls, pool: nn.Module, conv: nn.Module) -> "_ConvPoolNd":
        """The fusion of ``nn.Sequential(conv, pool)``, sharing ``conv``'s parameters.

        Args:
            pool: an ``nn.AvgPoolNd`` whose stride is its kernel size, without padding,
                ``ceil_mode`` or ``divisor_override``.
            conv: an ``nn.ConvNd`` with this module's number of spatial axes.

        Raises:
            TypeError: when a module is not of these types.
            ValueError: when their settings cannot be fused; the message says which and why.
        """
        if isinstance(pool, nn.modules.conv._ConvNd) and isinstance(conv, nn.modules.pooling._AvgPoolNd):
            raise TypeError("pool, conv: passed in the wrong order; from_modules takes (pool, conv)")
        _check_plain(pool, "pool", TORCH_AVG_POOL[cls.ndim])
        kernel = per_axis(pool.kernel_size, cls.ndim, "pool.kernel_size", minimum=1)
        stride = kernel if pool.stride in (None, ()) else per_axis(pool.stride, cls.ndim, "pool.stride", minimum=1)
        if stride != kernel:
            raise ValueError(
                f"pool: its stride must equal its kernel size (non-overlapping windows); got kernel_size={pool.kernel_size}, "
                f"stride={pool.stride}"
            )
        if per_axis(pool.padding, cls.ndim, "pool.padding", minimum=0) != (0,) * cls.ndim:
            raise ValueError(f"pool: must not pad; got padding={pool.padding}")
        if pool.ceil_mode:
            raise ValueError("pool: ceil_mode=True pools a partial window at the end; only floor mode fuses")
        if getattr(pool, "divisor_override", None) is not None:
            raise ValueError(f"pool: divisor_override={pool.divisor_override} is not supported; only the plain average fuses")
        _check_plain(conv, "conv", TORCH_CONV[cls.ndim])
        return _sharing(cls, conv, padding_mode=conv.padding_mode, stride=conv.stride, pool_size=kernel)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        text += self._conv_repr() + f", pool_size={self.pool_size}"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
        return text


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
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype, algorithm
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
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}" + self._conv_repr()
        for name in ("combine", "reduce"):
            value = getattr(self, name)
            text += f", {name}={getattr(value, '__name__', value)!r}" if callable(value) else f", {name}={value!r}"
        if self.max_memory is not None:
            text += f", max_memory={self.max_memory}"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
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
            f"groups: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups ({groups})"
        )


def _add_parameters(module: nn.Module, weight_shape: tuple[int, ...], bias_size: Optional[int], device: object, dtype: object) -> None:
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


class UpsampleConv1d(_UpsampleConvNd):
    """``nn.Sequential(nn.Upsample(...), nn.Conv1d(...))`` in one module with ``nn.Conv1d``'s
    parameters. See :func:`tconv.upsample_conv1d`."""

    ndim = 1


class UpsampleConv2d(_UpsampleConvNd):
    """``nn.Sequential(nn.Upsample(...), nn.Conv2d(...))`` in one module with ``nn.Conv2d``'s
    parameters. See :func:`tconv.upsample_conv2d`."""

    ndim = 2


class UpsampleConv3d(_UpsampleConvNd):
    """``nn.Sequential(nn.Upsample(...), nn.Conv3d(...))`` in one module with ``nn.Conv3d``'s
    parameters. See :func:`tconv.upsample_conv3d`."""

    ndim = 3


class ConvPool1d(_ConvPoolNd):
    """``nn.Sequential(nn.Conv1d(...), nn.AvgPool1d(pool_size))`` in one module with
    ``nn.Conv1d``'s parameters. See :func:`tconv.conv_pool1d`."""

    ndim = 1


class ConvPool2d(_ConvPoolNd):
    """``nn.Sequential(nn.Conv2d(...), nn.AvgPool2d(pool_size))`` in one module with
    ``nn.Conv2d``'s parameters. See :func:`tconv.conv_pool2d`."""

    ndim = 2


class ConvPool3d(_ConvPoolNd):
    """``nn.Sequential(nn.Conv3d(...), nn.AvgPool3d(pool_size))`` in one module with
    ``nn.Conv3d``'s parameters. See :func:`tconv.conv_pool3d`."""

    ndim = 3


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


UPSAMPLE_CONV = {1: UpsampleConv1d, 2: UpsampleConv2d, 3: UpsampleConv3d}
CONV_POOL = {1: ConvPool1d, 2: ConvPool2d, 3: ConvPool3d}
CUSTOM_CONV = {1: CustomConv1d, 2: CustomConv2d, 3: CustomConv3d}

__all__ = [
    "ConvPool1d",
    "ConvPool2d",
    "ConvPool3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "CustomConv1d",
    "CustomConv2d",
    "CustomConv3d",
    "UpsampleConv1d",
    "UpsampleConv2d",
    "UpsampleConv3d",
]
