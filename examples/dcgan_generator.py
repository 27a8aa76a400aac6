"""A DCGAN generator: a stack of k4 s2 p1 transposed convolutions from a latent vector to a
64×64 image. ``tconv.optimize`` swaps each ``nn.ConvTranspose2d`` for tconv's (``auto``).

Run: ``python examples/dcgan_generator.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import sys

import torch
from measure import optimize_and_measure
from torch import nn


def generator(latent: int = 100, width: int = 64) -> nn.Module:
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(latent, 8 * width, 4, 1, 0, bias=False),
        nn.BatchNorm2d(8 * width),
        nn.ReLU(),
    ]
    for cin, cout in ((8, 4), (4, 2), (2, 1)):
        layers += [
            nn.ConvTranspose2d(cin * width, cout * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(cout * width),
            nn.ReLU(),
        ]
    return nn.Sequential(*layers, nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False), nn.Tanh())


def main(quick: bool = False) -> dict[str, float]:
    torch.manual_seed(0)
    return optimize_and_measure(generator(), (torch.randn(2 if quick else 16, 100, 1, 1),), quick=quick)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
