"""The ``resample`` suite: tconv's fused ``upsample_convNd`` and ``conv_poolNd`` against the naive
composition (and nearest rows against the transposed convolution of the same shape)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
import torch.nn.functional as F

from ...kernels.ops import F_AVG_POOL, F_CONV, F_CONV_TRANSPOSE
from ..harness import Method, RowRun, Settings, Suite
from .common import LabelledRow, _fused


@dataclass(frozen=True)
class ResampleRow(LabelledRow):
    """A fused resampling convolution C → C (kernel ``kernel``, padding ``kernel // 2``, depthwise
    or dense) against the naive composition: ×2 ``mode`` interpolation (``align_corners=False``
    for the linear modes) then the convolution, or for ``mode="pool"`` the convolution then a 2×
    average pool; nearest rows add ``torch_deconv``, a transposed convolution of the shape they
    equal."""

    mode: str = "nearest"
    kernel: int = 3
    depthwise: bool = False
    quick: bool = False
    devices: tuple[str, ...] = ("cpu", "cuda")

    def build(self, settings: Settings) -> RowRun:
        generator = torch.Generator().manual_seed(0)
        shape = settings.shape(*self.input)
        ndim, c = len(shape) - 2, shape[1]
        groups, padding = (c if self.depthwise else 1), self.kernel // 2
        x = settings.tensor(shape, generator)
        w = settings.tensor((c, c // groups, *(self.kernel,) * ndim), generator)
        conv = F_CONV[ndim]
        methods: dict[str, Union[Method, str]] = {}
        if self.mode == "pool":
            methods["naive"] = lambda: F_AVG_POOL[ndim](conv(x, w, None, 1, padding, 1, groups), 2)
            arguments = dict(padding=padding, groups=groups)
            methods["tconv"], algorithm = _fused(settings, "conv_pool", ndim, x, w, None, **arguments)
            return RowRun(str(list(shape)), (x, w), methods, algorithm)
        align_corners = None if self.mode == "nearest" else False

        def naive() -> torch.Tensor:
            upsampled = F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=align_corners)
            return conv(upsampled, w, None, 1, padding, 1, groups)

        methods["naive"] = naive
        inputs = (x, w)
        if self.mode == "nearest":
            w_deconv = settings.tensor((c, c // groups, *(self.kernel + 1,) * ndim), generator)
            methods["torch_deconv"] = lambda: F_CONV_TRANSPOSE[ndim](x, w_deconv, None, 2, padding, 0, groups)
            inputs += (w_deconv,)
        arguments = dict(mode=self.mode, padding=padding, groups=groups, align_corners=align_corners)
        methods["tconv"], algorithm = _fused(settings, "upsample_conv", ndim, x, w, None, **arguments)
        return RowRun(str(list(shape)), inputs, methods, algorithm)


SUITE = Suite(
    "resample",
    "fused resampling convolutions",
    rows=(
        ResampleRow("nearest ×2 + conv3x3", (8, 64, 32, 32), quick=True),
        ResampleRow("nearest ×2 + conv3x3", (8, 128, 16, 16), quick=True),
        ResampleRow("bilinear ×2 + conv3x3", (8, 64, 32, 32), "bilinear", quick=True),
        ResampleRow("bilinear ×2 + conv3x3", (8, 128, 16, 16), "bilinear", quick=True),
        ResampleRow("conv3x3 + avg-pool 2", (8, 64, 64, 64), "pool", quick=True),
        ResampleRow("conv3x3 + avg-pool 2", (8, 128, 32, 32), "pool", quick=True),
        ResampleRow("3d nearest ×2 + conv3x3x3", (2, 32, 8, 16, 16)),
        ResampleRow("1d audio nearest ×2 + conv k7", (4, 128, 2048), kernel=7),
        ResampleRow("depthwise nearest ×2 + conv3x3", (8, 256, 32, 32), depthwise=True),
    ),
    baseline="naive",
    memory=True,
)
