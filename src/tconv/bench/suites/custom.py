"""The ``custom`` suite: tconv's custom convolutions against the literal ``F.unfold`` recipe
people write (:func:`unfold_recipe`, the baseline), and ``F.conv2d`` for ``mul``/``sum``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import torch
import torch.nn.functional as F

from ...custom.testing import tanh_product
from ..harness import Method, RowRun, Settings, Suite
from .common import LabelledRow, _custom

#: The unfold recipe's combine and reduce for each preset.
RECIPE_COMBINE = {
    "mul": torch.mul,
    "add": torch.add,
    "sub": torch.sub,
    "abs_diff": lambda x, w: (x - w).abs(),
    "sq_diff": lambda x, w: (x - w).square(),
}
RECIPE_REDUCE = {
    "sum": torch.sum,
    "mean": torch.mean,
    "max": torch.amax,
    "min": torch.amin,
    "logsumexp": torch.logsumexp,
}


def unfold_recipe(x: torch.Tensor, w: torch.Tensor, padding: int, combine: Callable, reduce: Callable) -> torch.Tensor:
    """A custom 2-d convolution (stride 1, groups 1) as people write it: ``F.unfold`` the input,
    broadcast it against the weight over the output channels (``(N, Cout, Cin * k * k, L)``),
    combine, reduce the window's dimension."""
    n, (cout, _, kh, kw) = x.shape[0], w.shape
    patches = F.unfold(x, (kh, kw), padding=padding)  # (N, Cin * kh * kw, L)
    out = reduce(combine(patches.unsqueeze(1), w.reshape(1, cout, -1, 1)), 2)
    return out.view(n, cout, x.shape[2] + 2 * padding - kh + 1, x.shape[3] + 2 * padding - kw + 1)


@dataclass(frozen=True)
class CustomRow(LabelledRow):
    """A custom 2-d convolution Cin → ``out_channels`` (kernel ``kernel``, padding ``kernel // 2``)
    with a ``combine`` and ``reduce`` preset (or a callable combine) against the unfold recipe."""

    out_channels: int
    combine: Union[str, Callable]
    reduce: str = "sum"
    kernel: int = 3
    quick: bool = False
    devices: tuple[str, ...] = ("cpu", "cuda")

    def build(self, settings: Settings) -> RowRun:
        generator = torch.Generator().manual_seed(0)
        shape = settings.shape(*self.input)
        padding = self.kernel // 2
        x = settings.tensor(shape, generator)
        w = settings.tensor((settings.channels(self.out_channels), shape[1], self.kernel, self.kernel), generator)
        combine = RECIPE_COMBINE.get(self.combine, self.combine)
        methods: dict[str, Union[Method, str]] = {
            "recipe": lambda: unfold_recipe(x, w, padding, combine, RECIPE_REDUCE[self.reduce])
        }
        if (self.combine, self.reduce) == ("mul", "sum"):
            methods["torch_conv"] = lambda: F.conv2d(x, w, None, 1, padding)
        arguments = dict(padding=padding, combine=self.combine, reduce=self.reduce)
        methods["tconv"], algorithm = _custom(settings, 2, x, w, None, **arguments)
        return RowRun(str(list(shape)), (x, w), methods, algorithm)


SUITE = Suite(
    "custom",
    "custom convolutions 3×3, padding 1",
    rows=(
        CustomRow("adder |x-w| / sum", (4, 32, 32, 32), 32, "abs_diff", quick=True),
        CustomRow("x·w / sum (conv2d)", (4, 32, 32, 32), 32, "mul", quick=True),
        CustomRow("(x-w)² / sum", (4, 32, 32, 32), 32, "sq_diff"),
        CustomRow("max-plus x+w / max", (4, 32, 32, 32), 32, "add", "max", quick=True),
        CustomRow("x-w / min", (4, 32, 32, 32), 32, "sub", "min"),
        CustomRow("x·w / logsumexp", (4, 32, 32, 32), 32, "mul", "logsumexp"),
        CustomRow("callable tanh(x·w) / sum", (4, 32, 32, 32), 32, tanh_product),
        CustomRow("adder |x-w| / sum", (2, 64, 32, 32), 64, "abs_diff"),
    ),
    baseline="recipe",
    memory=True,
)
