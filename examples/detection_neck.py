"""A detection neck (FPN-like) whose top-down path upsamples with depthwise transposed
convolutions of kernel = stride = 2, then merges each level with a 3×3 convolution and an
average-pooled extra level. ``tconv.optimize`` swaps the depthwise deconvolutions for tconv's and
fuses the convolution + pooling.

Run: ``python examples/detection_neck.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import sys

import torch
from measure import optimize_and_measure
from torch import nn


class Neck(nn.Module):
    def __init__(self, channels: tuple[int, ...] = (128, 256, 512), width: int = 128) -> None:
        super().__init__()
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in channels])
        self.up = nn.ModuleList([nn.ConvTranspose2d(width, width, 2, 2, groups=width) for _ in channels[1:]])
        self.smooth = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in channels])
        self.extra = nn.Conv2d(width, width, 3, padding=1)
        self.pool = nn.AvgPool2d(2)

    def forward(self, c3: torch.Tensor, c4: torch.Tensor, c5: torch.Tensor) -> tuple[torch.Tensor, ...]:
        p5 = self.lateral[2](c5)
        p4 = self.lateral[1](c4) + self.up[1](p5)
        p3 = self.lateral[0](c3) + self.up[0](p4)
        outs = [smooth(p) for smooth, p in zip(self.smooth, (p3, p4, p5))]
        return (*outs, self.pool(self.extra(outs[-1])))


def main(quick: bool = False) -> dict[str, float]:
    torch.manual_seed(0)
    n = 1 if quick else 8
    inputs = (torch.randn(n, 128, 32, 32), torch.randn(n, 256, 16, 16), torch.randn(n, 512, 8, 8))
    return optimize_and_measure(Neck(), inputs, quick=quick)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
