"""``tconv bench``: tconv's algorithms against PyTorch, side by side in one run.

Each row is a transposed convolution from a real model. The baseline is what a PyTorch user
writes: ``F.conv_transposeNd`` with PyTorch padding, and, for a padding PyTorch cannot express
(``"same"`` with an odd crop), the closest PyTorch padding followed by a slice and a copy. Times
are medians from :class:`torch.utils.benchmark.Timer`; each side is timed twice, alternating with
the other, and the lower median is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import track
from rich.table import Table
from torch.utils import benchmark

from . import algorithms, functional
from .algorithms.native import torch_window

_TORCH_OPS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


@dataclass(frozen=True)
class Shape:
    name: str
    input: tuple[int, ...]
    out_channels: int
    kernel: int
    stride: int
    padding: object = 0
    output_padding: int = 0
    groups: int = 1
    quick: bool = False


CONVT_SUITE = (
    Shape("DCGAN up-block k4 s2 p1", (16, 256, 8, 8), 128, 4, 2, 1, quick=True),
    Shape("pix2pix up-block k4 s2 p1", (4, 128, 32, 32), 64, 4, 2, 1),
    Shape("U-Net up-conv k2 s2", (8, 128, 32, 32), 64, 2, 2, quick=True),
    Shape("decoder k3 s2 p1 op1", (8, 64, 32, 32), 64, 3, 2, 1, 1, quick=True),
    Shape("decoder k3 s2 'same' (odd crop)", (8, 64, 32, 32), 64, 3, 2, "same", quick=True),
    Shape("stride 1 k3 p1", (8, 64, 32, 32), 64, 3, 1, 1),
    Shape("stride 4 k8 p2", (8, 64, 16, 16), 32, 8, 4, 2),
    Shape("depthwise deconv k2 s2", (8, 512, 16, 16), 512, 2, 2, groups=512, quick=True),
    Shape("1d audio upsampler k16 s8 p4", (4, 128, 512), 64, 16, 8, 4, quick=True),
    Shape("3d k2 s2", (2, 64, 8, 16, 16), 32, 2, 2, quick=True),
)


@dataclass
class Result:
    suite: str
    name: str
    algorithm: str
    torch_ms: float
    tconv_ms: float

    @property
    def speedup(self) -> float:
        return self.torch_ms / self.tconv_ms


def _torch_baseline(shape: Shape, x: torch.Tensor, w: torch.Tensor) -> Callable[[], torch.Tensor]:
    """What a PyTorch user runs for this shape."""
    ndim = x.dim() - 2
    op = _TORCH_OPS[ndim]
    if not isinstance(shape.padding, str):
        return lambda: op(x, w, None, shape.stride, shape.padding, shape.output_padding, shape.groups)
    plan = functional.plan_for(x, w, None, shape.stride, shape.padding, shape.output_padding, shape.groups)
    splits = [torch_window(window, shape.stride, 1) for window in plan.windows]
    padding = tuple(split[0] for split in splits)
    output_padding = tuple(split[1] for split in splits)
    crop = tuple(slice(split[2], None if split[3] == 0 else -split[3]) for split in splits)
    return lambda: op(x, w, None, shape.stride, padding, output_padding, shape.groups)[(..., *crop)].contiguous()


def _time(fn: Callable[[], object], min_run_time: float) -> float:
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median * 1e3


def _with_backward(fn: Callable[[], torch.Tensor]) -> Callable[[], None]:
    def run() -> None:
        out = fn()
        out.backward(torch.ones_like(out))

    return run


def run_bench(
    *, quick: bool = False, backward: bool = False, min_run_time: Optional[float] = None, algorithm: str = "auto"
) -> list[Result]:
    """Time every shape of the ``convt`` suite, PyTorch and tconv alternating."""
    min_run_time = min_run_time or (0.1 if quick else 0.5)
    shapes = [shape for shape in CONVT_SUITE if shape.quick or not quick]
    results = []
    for shape in track(shapes, description="benchmarking", transient=True):
        generator = torch.Generator().manual_seed(0)
        ndim = len(shape.input) - 2
        x = torch.randn(shape.input, generator=generator, requires_grad=backward)
        w = torch.randn(
            shape.input[1], shape.out_channels // shape.groups, *(shape.kernel,) * ndim, generator=generator, requires_grad=backward
        )
        args = (x, w, None, shape.stride, shape.padding, shape.output_padding, shape.groups)
        plan = functional.plan_for(*args)
        chosen = algorithms.select(plan, algorithm).name
        ours = lambda args=args, ndim=ndim: functional.conv_transpose(ndim, *args, algorithm=chosen)  # noqa: E731
        theirs = _torch_baseline(shape, x, w)
        if backward:
            ours, theirs = _with_backward(ours), _with_backward(theirs)
        torch_times, tconv_times = [], []
        for _ in range(2):
            torch_times.append(_time(theirs, min_run_time))
            tconv_times.append(_time(ours, min_run_time))
        results.append(Result("convt", shape.name, chosen, min(torch_times), min(tconv_times)))
    return results


def print_results(results: list[Result], console: Console, *, backward: bool = False) -> None:
    table = Table(title=f"tconv bench ({'forward+backward' if backward else 'forward'}, {torch.get_num_threads()} threads, ms)")
    for column in ("suite", "shape", "algorithm", "torch ms", "tconv ms", "speedup"):
        table.add_column(column, justify="right" if column.endswith(("ms", "speedup")) else "left")
    for r in results:
        table.add_row(r.suite, r.name, r.algorithm, f"{r.torch_ms:.3f}", f"{r.tconv_ms:.3f}", f"{r.speedup:.2f}x")
    console.print(table)
