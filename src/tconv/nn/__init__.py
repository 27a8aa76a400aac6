"""Modules: thin ``nn.Module`` wrappers over :mod:`tconv.functional`, :mod:`tconv.fused` and :mod:`tconv.custom`.

All in :mod:`.base` for now, re-exported here.
"""

from .base import (
    CONV_POOL,
    CONV_TRANSPOSE,
    CUSTOM_CONV,
    TORCH_AVG_POOL,
    TORCH_CONV,
    TORCH_CONV_TRANSPOSE,
    UPSAMPLE_CONV,
    ConvPool1d,
    ConvPool2d,
    ConvPool3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    CustomConv1d,
    CustomConv2d,
    CustomConv3d,
    UpsampleConv1d,
    UpsampleConv2d,
    UpsampleConv3d,
)

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
