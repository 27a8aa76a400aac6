"""A U-Net-style decoder: each stage upsamples, convolves, concatenates the skip connection and
convolves again. ``tconv.optimize`` fuses every upsampling with the convolution after it.

Run: ``python examples/unet_decoder.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import sys

import torch
from measure import optimize_and_measure
from torch import nn


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, mode: str) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode=mode, **({} if mode == "nearest" else {"align_corners": False}))
        self.reduce = nn.Conv2d(cin, cout, 3, padding=1)
        self.merge = nn.Sequential(nn.Conv2d(2 * cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.cat([self.reduce(self.up(x)), skip], 1))


class Decoder(nn.Module):
    """From a ``[N, 256, 8, 8]`` bottleneck and skips of 128, 64 and 32 channels to 2 classes at 64×64."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            [UpBlock(256, 128, "nearest"), UpBlock(128, 64, "bilinear"), UpBlock(64, 32, "nearest")]
        )
        self.head = nn.Conv2d(32, 2, 1)

    def forward(self, x: torch.Tensor, s1: torch.Tensor, s2: torch.Tensor, s3: torch.Tensor) -> torch.Tensor:
        for block, skip in zip(self.blocks, (s1, s2, s3)):
            x = block(x, skip)
        return self.head(x)


def main(quick: bool = False) -> dict[str, float]:
    torch.manual_seed(0)
    n = 1 if quick else 4
    inputs = (
        torch.randn(n, 256, 8, 8),
        torch.randn(n, 128, 16, 16),
        torch.randn(n, 64, 32, 32),
        torch.randn(n, 32, 64, 64),
    )
    return optimize_and_measure(Decoder(), inputs, quick=quick)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
