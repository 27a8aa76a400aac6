"""The ``upsample`` suite: ×2 upsampling modules people compare, tconv's depthwise transposed
convolution among them, and a plain copy moving the bytes it must at least move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
import torch.nn.functional as F

from ..harness import Method, RowRun, Settings, Suite
from .common import _tconv, plain_copy


@dataclass(frozen=True)
class UpsampleRow:
    """×2 upsampling modules on one ``[batch, channels, size, size]`` input."""

    batch: int
    channels: int
    size: int = 16
    quick: bool = False
    devices: tuple[str, ...] = ("cpu",)

    @property
    def name(self) -> str:
        return f"B={self.batch} C={self.channels}"

    def build(self, settings: Settings) -> RowRun:
        generator = torch.Generator().manual_seed(0)
        shape = settings.shape(self.batch, self.channels, self.size, self.size)
        c = shape[1]
        x = settings.tensor(shape, generator)
        w_up = settings.tensor((c, 1, 2, 2), generator)
        w_conv = settings.tensor((c, 1, 3, 3), generator)
        b = settings.tensor((c,), generator) if settings.bias else None
        tconv, algorithm = _tconv(settings, 2, x, w_up, b, 2, 0, 0, c)
        with torch.no_grad(), settings.autocast():
            out = F.conv_transpose2d(x, w_up, b, 2, 0, 0, c)
        methods: dict[str, Union[Method, str]] = {
            "nearest": lambda: F.interpolate(x, scale_factor=2, mode="nearest"),
            "conv3x3_dw": lambda: F.conv2d(x, w_conv, b, 1, 1, 1, c),
            "torch_deconv_dw": lambda: F.conv_transpose2d(x, w_up, b, 2, 0, 0, c),
            "bilinear": lambda: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False),
            "tconv": tconv,
            "copy": plain_copy(settings, reads=(x, w_up), writes=(out,)),
        }
        return RowRun(str(list(shape)), (x, w_up, w_conv) if b is None else (x, w_up, w_conv, b), methods, algorithm)


SUITE = Suite(
    "upsample",
    "×2 upsampling modules on [B, C, 16, 16]",
    rows=(
        UpsampleRow(1, 512, quick=True),
        UpsampleRow(8, 512, quick=True),
        UpsampleRow(16, 512, quick=True),
        UpsampleRow(1, 2048, quick=True, devices=("cuda",)),
        UpsampleRow(16, 2048, quick=True, devices=("cuda",)),
        UpsampleRow(64, 2048, quick=True, devices=("cuda",)),
    ),
    baseline="torch_deconv_dw",
)
