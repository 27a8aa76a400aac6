"""The ``optimize`` suite: a decoder as people write it (:class:`Decoder`) against
``tconv.optimize`` of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import torch
import torch.nn.functional as F
from torch import nn

from ...optimize import optimize
from ..harness import Method, RowRun, Settings, Suite
from .common import LabelledRow


class Decoder(nn.Module):
    """A decoder from ``[B, C, 16, 16]`` to ``[B, C/8, 128, 128]``, channels halving as the
    resolution doubles, in the patterns ``tconv.optimize`` rewrites: nearest ×2 + conv 3×3
    (C → C/2), conv 3×3 + average pool 2, a k4 s2 p1 transposed conv, ``F.interpolate`` nearest ×2
    + conv 3×3 (C/2 → C/4), bilinear ×2 + conv 3×3 (C/4 → C/8), with ReLUs in between."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c2, c4, c8 = max(2, channels // 2), max(2, channels // 4), max(2, channels // 8)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv1 = nn.Conv2d(channels, c2, 3, padding=1)
        self.conv2 = nn.Conv2d(c2, c2, 3, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.deconv = nn.ConvTranspose2d(c2, c2, 4, 2, 1)
        self.conv3 = nn.Conv2d(c2, c4, 3, padding=1)
        self.bilinear = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv4 = nn.Conv2d(c4, c8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(self.up(x)))
        x = F.relu(self.pool(self.conv2(x)))
        x = F.relu(self.deconv(x))
        x = F.relu(self.conv3(F.interpolate(x, scale_factor=2, mode="nearest")))
        return self.conv4(self.bilinear(x))


@dataclass(frozen=True)
class OptimizeRow(LabelledRow):
    """:class:`Decoder` as written (``original``) and ``tconv.optimize``-d (``tconv``)."""

    quick: bool = False
    devices: tuple[str, ...] = ("cpu", "cuda")

    def build(self, settings: Settings) -> RowRun:
        torch.manual_seed(0)
        shape = settings.shape(*self.input)
        model = Decoder(shape[1]).to(settings.device, settings.dtype)
        if settings.channels_last:
            model = model.to(memory_format=torch.channels_last)
        for p in model.parameters():
            p.requires_grad_(settings.backward)
        x = settings.tensor(shape, torch.Generator().manual_seed(0))
        with settings.autocast():
            optimized, report = optimize(model, x, report=True)
        methods: dict[str, Union[Method, str]] = {"original": lambda: model(x), "tconv": lambda: optimized(x)}
        return RowRun(str(list(shape)), (x, *model.parameters()), methods, f"{len(report.rewritten)} rewrites")


SUITE = Suite(
    "optimize",
    "tconv.optimize of a decoder",
    rows=(OptimizeRow("decoder", (4, 128, 16, 16), quick=True), OptimizeRow("decoder", (16, 128, 16, 16))),
    baseline="original",
    memory=True,
)
