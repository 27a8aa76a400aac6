"""Modules: thin ``nn.Module`` wrappers over :mod:`tconv.transposed`, :mod:`tconv.fused` and :mod:`tconv.custom`.

``ConvTranspose{1,2,3}d`` take the arguments of PyTorch's modules and hold parameters of the same
names, shapes and initialisation, so a PyTorch module's ``state_dict`` loads unchanged.
``UpsampleConv{1,2,3}d``, ``ConvPool{1,2,3}d`` and ``CustomConv{1,2,3}d`` hold those of
``nn.Conv{1,2,3}d`` the same way; they are not subclasses of it, so tools that fold or fuse plain
convolutions leave them alone.

One file per family, all re-exported here:

* :mod:`.transposed`: ``ConvTranspose{1,2,3}d`` (:data:`CONV_TRANSPOSE`);
* :mod:`.fused`: ``UpsampleConv{1,2,3}d`` and ``ConvPool{1,2,3}d`` (:data:`UPSAMPLE_CONV`, :data:`CONV_POOL`);
* :mod:`.custom`: ``CustomConv{1,2,3}d`` (:data:`CUSTOM_CONV`);
* :mod:`.base`: what they share: the base of the fused and custom modules, the creation,
  initialisation and sharing of parameters, the argument checks, and PyTorch's module tables
  (:data:`TORCH_CONV`, :data:`TORCH_CONV_TRANSPOSE`, :data:`TORCH_AVG_POOL`).
"""

from .base import TORCH_AVG_POOL as TORCH_AVG_POOL
from .base import TORCH_CONV as TORCH_CONV
from .base import TORCH_CONV_TRANSPOSE as TORCH_CONV_TRANSPOSE
from .custom import CUSTOM_CONV as CUSTOM_CONV
from .custom import CustomConv1d, CustomConv2d, CustomConv3d
from .fused import CONV_POOL as CONV_POOL
from .fused import UPSAMPLE_CONV as UPSAMPLE_CONV
from .fused import (
    ConvPool1d,
    ConvPool2d,
    ConvPool3d,
    UpsampleConv1d,
    UpsampleConv2d,
    UpsampleConv3d,
)
from .transposed import CONV_TRANSPOSE as CONV_TRANSPOSE
from .transposed import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

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
