"""The ``convt`` suite: transposed convolutions from real models, tconv against
``F.conv_transposeNd``."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...kernels.ops import F_CONV_TRANSPOSE
from ...transposed import functional
from ...transposed.algorithms.native import torch_call
from ..harness import Method, RowRun, Settings, Suite
from .common import _tconv


@dataclass(frozen=True)
class ConvTRow:
    """A transposed convolution from a real model: tconv against ``F.conv_transposeNd``."""

    name: str
    input: tuple[int, ...]
    out_channels: int
    kernel: int
    stride: int
    padding: object = 0
    output_padding: int = 0
    groups: int = 1
    quick: bool = False
    devices: tuple[str, ...] = ("cpu", "cuda")

    def build(self, settings: Settings) -> RowRun:
        generator = torch.Generator().manual_seed(0)
        shape = settings.shape(*self.input)
        ndim = len(shape) - 2
        depthwise = self.groups > 1 and self.groups == self.input[1]
        groups = shape[1] if depthwise else self.groups
        out_channels = shape[1] if depthwise else settings.channels(self.out_channels)
        x = settings.tensor(shape, generator)
        w = settings.tensor((shape[1], out_channels // groups, *(self.kernel,) * ndim), generator)
        b = settings.tensor((out_channels,), generator) if settings.bias else None
        args = (x, w, b, self.stride, self.padding, self.output_padding, groups)
        tconv, algorithm = _tconv(settings, ndim, *args)
        inputs = (x, w) if b is None else (x, w, b)
        return RowRun(str(list(shape)), inputs, {"torch": _torch_baseline(*args), "tconv": tconv}, algorithm)


def _torch_baseline(x, w, bias, stride, padding, output_padding, groups) -> Method:
    """What a PyTorch user runs: ``F.conv_transposeNd``; for a padding PyTorch cannot express
    (``"same"`` with an odd crop), the closest PyTorch padding, a slice and a copy."""
    op = F_CONV_TRANSPOSE[x.dim() - 2]
    if not isinstance(padding, str):
        return lambda: op(x, w, bias, stride, padding, output_padding, groups)
    plan = functional.plan_for(x, w, bias, stride, padding, output_padding, groups)
    call = torch_call(plan.windows, plan.stride, plan.dilation)
    crop = tuple(slice(begin, None if end == 0 else -end) for begin, end in call.crops)
    return lambda: op(x, w, bias, stride, call.padding, call.output_padding, groups)[(..., *crop)].contiguous()


SUITE = Suite(
    "convt",
    "transposed convolutions from real models",
    rows=(
        ConvTRow("DCGAN up-block k4 s2 p1", (16, 256, 8, 8), 128, 4, 2, 1, quick=True),
        ConvTRow("pix2pix up-block k4 s2 p1", (4, 128, 32, 32), 64, 4, 2, 1),
        ConvTRow("U-Net up-conv k2 s2", (8, 128, 32, 32), 64, 2, 2, quick=True),
        ConvTRow("decoder k3 s2 p1 op1", (8, 64, 32, 32), 64, 3, 2, 1, 1, quick=True),
        ConvTRow("decoder k3 s2 'same' (odd crop)", (8, 64, 32, 32), 64, 3, 2, "same", quick=True),
        ConvTRow("stride 1 k3 p1", (8, 64, 32, 32), 64, 3, 1, 1),
        ConvTRow("stride 4 k8 p2", (8, 64, 16, 16), 32, 8, 4, 2),
        ConvTRow("depthwise deconv k2 s2", (8, 512, 16, 16), 512, 2, 2, groups=512, quick=True),
        ConvTRow("1d audio upsampler k16 s8 p4", (4, 128, 512), 64, 16, 8, 4, quick=True),
        ConvTRow("3d k2 s2", (2, 64, 8, 16, 16), 32, 2, 2, quick=True),
    ),
    baseline="torch",
)
