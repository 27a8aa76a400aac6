"""Fused resampling-convolution modules: ``UpsampleConv{1,2,3}d`` and ``ConvPool{1,2,3}d``, over
:func:`tconv.upsample_conv2d`, :func:`tconv.conv_pool2d` and their kin."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

from ..core.plan import per_axis
from ..fused.functional import conv_pool, upsample_conv
from ..fused.plan import check_mode, parse_scale_factor
from .base import TORCH_AVG_POOL, TORCH_CONV, _check_plain, _ConvLikeNd, _sharing


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
            in_channels,
            out_channels,
            kernel_size,
            (1,) * self.ndim,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            algorithm,
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
            cls,
            conv,
            padding_mode=conv.padding_mode,
            scale_factor=upsample.scale_factor,
            mode=upsample.mode,
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
                f"pool: its stride must equal its kernel size (non-overlapping windows); "
                f"got kernel_size={pool.kernel_size}, stride={pool.stride}"
            )
        if per_axis(pool.padding, cls.ndim, "pool.padding", minimum=0) != (0,) * cls.ndim:
            raise ValueError(f"pool: must not pad; got padding={pool.padding}")
        if pool.ceil_mode:
            raise ValueError("pool: ceil_mode=True pools a partial window at the end; only floor mode fuses")
        if getattr(pool, "divisor_override", None) is not None:
            raise ValueError(
                f"pool: divisor_override={pool.divisor_override} is not supported; only the plain average fuses"
            )
        _check_plain(conv, "conv", TORCH_CONV[cls.ndim])
        return _sharing(cls, conv, padding_mode=conv.padding_mode, stride=conv.stride, pool_size=kernel)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        text += self._conv_repr() + f", pool_size={self.pool_size}"
        if self.algorithm != "auto":
            text += f", algorithm={self.algorithm!r}"
        return text


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


UPSAMPLE_CONV = {1: UpsampleConv1d, 2: UpsampleConv2d, 3: UpsampleConv3d}
CONV_POOL = {1: ConvPool1d, 2: ConvPool2d, 3: ConvPool3d}
