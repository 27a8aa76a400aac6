"""``tconv bench``: tconv against what a PyTorch user would write, timed side by side in one run.

Suites
------
A suite is a name, a title, a tuple of rows and the two columns its speedup compares
(``baseline`` and ``contender``); :data:`SUITES` is the registry the command line reads. A row
knows its name, whether ``--quick`` keeps it, the devices it is meant for, and how to ``build`` a
:class:`Case` for a :class:`Settings`: its input tensors and one zero-argument callable per
column, in column order. Adding a suite means writing its rows (or reusing a row class) and adding
one entry to :data:`SUITES`; dtype, device, memory format, autocast, forward+backward, timing,
output and plotting are the runner's business, not the row's.

* ``upsample``: the ×2 upsampling modules people compare, on a ``[B, C, 16, 16]`` input: nearest,
  a 3×3 depthwise convolution (at the input resolution, padding 1), PyTorch's depthwise
  transposed convolution with kernel = stride = 2, bilinear (``align_corners=False``), tconv's
  depthwise transposed convolution, and ``copy``: a plain copy moving as many bytes as the
  transposed convolution must at least move (see :func:`plain_copy`), so "within 2× of a copy"
  reads off the ``× copy`` column.
* ``convt``: transposed convolutions from real models, tconv against ``F.conv_transposeNd``.
* ``resample``: tconv's fused ``upsample_convNd`` (×2 interpolation, then a convolution) and
  ``conv_poolNd`` (a convolution, then a 2× average pool) against the ``naive`` composition,
  3×3 convolutions C → C with padding 1 unless named. Upsampling rows take ``[8, 64, 32, 32]`` and
  ``[8, 128, 16, 16]``; pooling rows convolve at the pool's input resolution, ``[8, 64, 64, 64]``
  and ``[8, 128, 32, 32]``, so that their output matches the upsampling rows' input. Nearest
  rows add ``torch_deconv``, a transposed convolution of the shape nearest ×2 + a size-k
  convolution equals (kernel k + 1, stride 2, padding k // 2): the yardstick of "within 1.1× of
  a deconvolution". 3-d, 1-d audio and depthwise rows run without ``--quick``. The suite reports
  peak memory.
* ``custom``: custom convolutions (``tconv.custom_conv2d``) against ``recipe``, the literal
  ``F.unfold`` recipe people write (unfold, broadcast against the weight over the output
  channels, combine, reduce), 3×3 with padding 1; the ``mul``/``sum`` row adds ``torch_conv``
  (``F.conv2d``), which it must match. Reports peak memory. tconv's first call of a problem
  compiles its kernel (``compiled``); the warm-up call takes it, the timing does not.
* ``optimize``: a decoder as people write it (:class:`Decoder`: nearest upsampling + conv, conv +
  average pooling, a k4 s2 transposed convolution, ``F.interpolate`` + conv, bilinear upsampling +
  conv) against ``tconv.optimize`` of it. Reports peak memory.

Peak memory
-----------
A ``memory`` suite also reports ``peak_mib`` for its baseline and contender: the most one call
allocates above what was allocated before it, its result included, measured once per row after
the timing (so one-time allocations, such as the backward's ones gradient, are not counted). On
CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``. On CPU: the highest
running sum of ``torch.profiler``'s allocation and free events (``profile_memory=True``) in time
order; it sees PyTorch's CPU allocator only, not libraries allocating on their own.

Timing
------
Times are medians from :class:`torch.utils.benchmark.Timer` (which synchronises the GPU). Every
callable of a row is called once to warm up (caches, autotuning, compiling), then timed twice,
the columns alternating, and the lower median is kept, so that ratios stay fair on a shared
machine.

Tiny runs
---------
``Settings(tiny=True)`` (hidden ``--tiny`` on the command line) exists for the tests: batch at
most 2, channels divided by 32, spatial sizes divided by 4, one thread, and about a millisecond of
timing per callable. Its numbers mean nothing; it checks that every path runs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterator, Mapping, Optional, Protocol, Sequence, Union

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from torch import nn, profiler
from torch.utils import benchmark

from .. import __version__, algorithms, custom, functional, fused
from ..algorithms.autotune import autotune_enabled
from ..algorithms.native import torch_call
from ..custom.functional import custom_conv, explain_custom
from ..custom.testing import tanh_product
from ..fused.functional import explain_fused
from ..fused.functional import fused as run_fused
from ..optimize import optimize

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}
AMP_DEFAULT = {"cuda": torch.float16, "cpu": torch.bfloat16}
FORMATS = ("table", "csv", "json")

_TORCH_OPS = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_CONV_OPS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_AVG_POOL_OPS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}

Method = Callable[[], object]


def _dtype_name(dtype: Optional[torch.dtype]) -> Optional[str]:
    return None if dtype is None else str(dtype).removeprefix("torch.")


# --------------------------------------------------------------------------------------------
# Settings: everything a row needs to build its tensors


@dataclass(frozen=True)
class Settings:
    """How to run: device, dtype, layout, autocast, pass, row selection and timing.

    ``dtype`` is the dtype of the tensors; with ``amp`` (an autocast dtype) the tensors stay
    float32 and the operations run under ``torch.autocast(device, amp)``.
    """

    device: str = "cpu"
    dtype: torch.dtype = torch.float32
    amp: Optional[torch.dtype] = None
    channels_last: bool = False
    backward: bool = False
    bias: bool = False
    quick: bool = False
    tiny: bool = False
    algorithm: str = "auto"
    min_run_time: Optional[float] = None

    def check(self) -> None:
        """Raise ``ValueError`` naming the option when these settings cannot run here."""
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"--device: expected 'cpu' or 'cuda'; got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            why = "this PyTorch was built without CUDA" if torch.version.cuda is None else "no CUDA device is visible"
            raise ValueError(f"--device cuda: CUDA is not available ({why}; torch {torch.__version__}); use --device cpu")
        if self.amp is not None:
            if self.amp not in (torch.float16, torch.bfloat16):
                raise ValueError(f"--amp: autocast needs --dtype float16 or bfloat16; got {_dtype_name(self.amp)}")
            if self.dtype != torch.float32:
                raise ValueError("--amp: the tensors stay float32 under autocast; --dtype names the autocast dtype")
        known = {**algorithms.ALGORITHMS, **fused.ALGORITHMS, **custom.ALGORITHMS}
        if self.algorithm != "auto" and self.algorithm not in known:
            legal = ", ".join(map(repr, ("auto", *known)))
            raise ValueError(f"--algorithm: unknown algorithm {self.algorithm!r}; legal values are {legal}")
        if self.min_run_time is not None and not self.min_run_time > 0:
            raise ValueError(f"--min-run-time: expected a positive number of seconds; got {self.min_run_time}")

    @property
    def run_time(self) -> float:
        """Seconds of timing per measurement."""
        if self.min_run_time is not None:
            return self.min_run_time
        return 0.001 if self.tiny else 0.1 if self.quick else 0.5

    @property
    def threads(self) -> int:
        """CPU threads while timing: PyTorch's, or 1 for tiny runs (whose calls are so short that
        waking a second thread on a busy machine would dominate)."""
        return 1 if self.tiny else torch.get_num_threads()

    @property
    def pass_name(self) -> str:
        return "forward+backward" if self.backward else "forward"

    def channels(self, channels: int) -> int:
        return max(2, channels // 32) if self.tiny else channels

    def shape(self, batch: int, channels: int, *spatial: int) -> tuple[int, ...]:
        """An input shape, shrunk when ``tiny``."""
        if not self.tiny:
            return (batch, channels, *spatial)
        return (min(batch, 2), self.channels(channels), *(max(4, size // 4) for size in spatial))

    def tensor(self, shape: Sequence[int], generator: torch.Generator, *, grad: bool = True) -> torch.Tensor:
        """A random tensor on the device, in the dtype and memory format, needing a gradient
        under ``backward`` (unless ``grad`` is False)."""
        t = torch.randn(tuple(shape), generator=generator).to(self.device, self.dtype)
        if self.channels_last and t.dim() in (4, 5):
            t = t.contiguous(memory_format=torch.channels_last if t.dim() == 4 else torch.channels_last_3d)
        return t.requires_grad_(self.backward and grad)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device, dtype=self.amp)

    def describe(self) -> dict[str, object]:
        """The settings as JSON-ready values (the ``config`` of the CSV and JSON output)."""
        return {
            "device": self.device,
            "device_name": torch.cuda.get_device_name() if self.device == "cuda" else platform.machine(),
            "dtype": _dtype_name(self.dtype),
            "amp": _dtype_name(self.amp),
            "channels_last": self.channels_last,
            "pass": self.pass_name,
            "bias": self.bias,
            "threads": self.threads,
            "algorithm": self.algorithm,
            "autotune": autotune_enabled(),
            "min_run_time": self.run_time,
            "quick": self.quick,
            "tiny": self.tiny,
            "torch": torch.__version__,
            "tconv": __version__,
        }


# --------------------------------------------------------------------------------------------
# Suites: rows that build cases, and the registry


@dataclass
class Case:
    """One row, ready to time.

    ``methods`` maps each column to a zero-argument callable returning its result (a tensor), or
    to a string: why the column cannot run here (e.g. the forced tconv algorithm cannot run the
    problem). ``inputs`` are the tensors gradients are taken for under ``--backward``.
    """

    shape: str
    inputs: tuple[torch.Tensor, ...]
    methods: dict[str, Union[Method, str]]
    algorithm: str = ""


class Row(Protocol):
    """A row of a suite: its name, whether ``--quick`` keeps it, the devices it runs on (``cpu``,
    ``cuda``), and how to build its :class:`Case` (tensors made with :meth:`Settings.tensor`)."""

    name: str
    quick: bool
    devices: tuple[str, ...]

    def build(self, settings: Settings) -> Case: ...


@dataclass(frozen=True)
class Suite:
    """A named list of rows; ``speedup`` is ``baseline`` ms / ``contender`` ms."""

    name: str
    title: str
    rows: tuple[Row, ...]
    baseline: str
    contender: str = "tconv"
    memory: bool = False  # also measure the peak memory of baseline and contender

    def rows_for(self, settings: Settings) -> list[Row]:
        return [row for row in self.rows if settings.device in row.devices and (row.quick or not settings.quick)]


def _tconv(settings: Settings, ndim: int, *args: object) -> tuple[Union[Method, str], str]:
    """tconv's transposed convolution (``args`` as ``F.conv_transposeNd`` takes them): see
    :func:`_choose`."""
    return _choose(
        settings, algorithms.ALGORITHMS, partial(functional.explain, *args), partial(functional.conv_transpose, ndim, *args)
    )


def _fused(settings: Settings, op: str, ndim: int, *tensors: object, **arguments: object) -> tuple[Union[Method, str], str]:
    """tconv's fused ``op`` (``"upsample_conv"`` or ``"conv_pool"``): see :func:`_choose`."""
    explain = partial(explain_fused, op, *tensors, **arguments)
    return _choose(settings, fused.ALGORITHMS, explain, partial(run_fused, op, ndim, *tensors, **arguments))


def _custom(settings: Settings, ndim: int, *tensors: object, **arguments: object) -> tuple[Union[Method, str], str]:
    """tconv's custom convolution: see :func:`_choose`."""
    explain = partial(explain_custom, *tensors, **arguments)
    return _choose(settings, custom.ALGORITHMS, explain, partial(custom_conv, ndim, *tensors, **arguments))


def _choose(
    settings: Settings, family: Mapping[str, object], explain: Callable[..., algorithms.Choice], run: Callable[..., object]
) -> tuple[Union[Method, str], str]:
    """tconv's callable for a call, which is what a user writes: ``run(algorithm=...)`` with
    ``--algorithm`` where it names an algorithm of the op's ``family``, else ``"auto"``; with the
    name of the algorithm that runs (``explain`` autotunes here, before timing, where autotuning
    is on), or why the requested algorithm cannot run it."""
    algorithm = settings.algorithm if settings.algorithm in family else "auto"
    try:
        with settings.autocast():
            chosen = explain(algorithm=algorithm).algorithm.name
    except algorithms.NoAlgorithmError as error:
        return f"n/a: {error}", ""
    return (lambda: run(algorithm=algorithm)), chosen


def plain_copy(settings: Settings, reads: Sequence[torch.Tensor], writes: Sequence[torch.Tensor]) -> Method:
    """A plain copy moving the bytes an operation must at least move: the yardstick of "within 2×
    of a copy".

    Forward: read ``reads`` once and write ``writes`` once, ``R + W`` bytes. Forward+backward adds
    reading the output's gradient and the inputs again and writing the inputs' gradients:
    ``3R + 2W`` bytes. The copy is ``torch.empty_like(src).copy_(src)`` of half that many bytes
    (a copy reads and writes each byte) in the dtype of the first output; like the operations it
    is compared with, it allocates its result on every call.
    """
    read = sum(t.numel() * t.element_size() for t in reads)
    write = sum(t.numel() * t.element_size() for t in writes)
    moved = 3 * read + 2 * write if settings.backward else read + write
    dtype = writes[0].dtype
    src = torch.ones(math.ceil(moved / 2 / torch.empty((), dtype=dtype).element_size()), dtype=dtype, device=settings.device)
    return lambda: torch.empty_like(src).copy_(src)


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

    def build(self, settings: Settings) -> Case:
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
        return Case(str(list(shape)), (x, w_up, w_conv) if b is None else (x, w_up, w_conv, b), methods, algorithm)


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

    def build(self, settings: Settings) -> Case:
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
        return Case(str(list(shape)), inputs, {"torch": _torch_baseline(*args), "tconv": tconv}, algorithm)


def _torch_baseline(x, w, bias, stride, padding, output_padding, groups) -> Method:
    """What a PyTorch user runs: ``F.conv_transposeNd``; for a padding PyTorch cannot express
    (``"same"`` with an odd crop), the closest PyTorch padding, a slice and a copy."""
    op = _TORCH_OPS[x.dim() - 2]
    if not isinstance(padding, str):
        return lambda: op(x, w, bias, stride, padding, output_padding, groups)
    plan = functional.plan_for(x, w, bias, stride, padding, output_padding, groups)
    call = torch_call(plan.windows, plan.stride, plan.dilation)
    crop = tuple(slice(begin, None if end == 0 else -end) for begin, end in call.crops)
    return lambda: op(x, w, bias, stride, call.padding, call.output_padding, groups)[(..., *crop)].contiguous()


@dataclass(frozen=True)
class LabelledRow:
    """A row named by its label and its input's shape."""

    label: str
    input: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.label} {list(self.input)}"


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

    def build(self, settings: Settings) -> Case:
        generator = torch.Generator().manual_seed(0)
        shape = settings.shape(*self.input)
        ndim, c = len(shape) - 2, shape[1]
        groups, padding = (c if self.depthwise else 1), self.kernel // 2
        x = settings.tensor(shape, generator)
        w = settings.tensor((c, c // groups, *(self.kernel,) * ndim), generator)
        conv = _CONV_OPS[ndim]
        methods: dict[str, Union[Method, str]] = {}
        if self.mode == "pool":
            methods["naive"] = lambda: _AVG_POOL_OPS[ndim](conv(x, w, None, 1, padding, 1, groups), 2)
            methods["tconv"], algorithm = _fused(settings, "conv_pool", ndim, x, w, None, padding=padding, groups=groups)
            return Case(str(list(shape)), (x, w), methods, algorithm)
        align_corners = None if self.mode == "nearest" else False
        methods["naive"] = lambda: conv(
            F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=align_corners), w, None, 1, padding, 1, groups
        )
        inputs = (x, w)
        if self.mode == "nearest":
            w_deconv = settings.tensor((c, c // groups, *(self.kernel + 1,) * ndim), generator)
            methods["torch_deconv"] = lambda: _TORCH_OPS[ndim](x, w_deconv, None, 2, padding, 0, groups)
            inputs += (w_deconv,)
        arguments = dict(mode=self.mode, padding=padding, groups=groups, align_corners=align_corners)
        methods["tconv"], algorithm = _fused(settings, "upsample_conv", ndim, x, w, None, **arguments)
        return Case(str(list(shape)), inputs, methods, algorithm)


#: The unfold recipe's combine and reduce for each preset.
RECIPE_COMBINE = {
    "mul": torch.mul,
    "add": torch.add,
    "sub": torch.sub,
    "abs_diff": lambda x, w: (x - w).abs(),
    "sq_diff": lambda x, w: (x - w).square(),
}
RECIPE_REDUCE = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin, "logsumexp": torch.logsumexp}


def unfold_recipe(x: torch.Tensor, w: torch.Tensor, padding: int, combine: Callable, reduce: Callable) -> torch.Tensor:
    """A custom 2-d convolution (stride 1, groups 1) as people write it: ``F.unfold`` the input,
    broadcast it against the weight over the output channels (``(N, Cout, Cin * k * k, L)``),
    combine, reduce the window's dimension."""
    n, (cout, cin, kh, kw) = x.shape[0], w.shape
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

    def build(self, settings: Settings) -> Case:
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
        return Case(str(list(shape)), (x, w), methods, algorithm)


UPSAMPLE = Suite(
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

CONVT = Suite(
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

RESAMPLE = Suite(
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

    def build(self, settings: Settings) -> Case:
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
        return Case(str(list(shape)), (x, *model.parameters()), methods, f"{len(report.rewritten)} rewrites")


OPTIMIZE = Suite(
    "optimize",
    "tconv.optimize of a decoder",
    rows=(OptimizeRow("decoder", (4, 128, 16, 16), quick=True), OptimizeRow("decoder", (16, 128, 16, 16))),
    baseline="original",
    memory=True,
)

CUSTOM = Suite(
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

SUITES: dict[str, Suite] = {suite.name: suite for suite in (UPSAMPLE, CONVT, RESAMPLE, CUSTOM, OPTIMIZE)}


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class CaseResult:
    """The times of one row: ``ms`` per column that ran, ``peak_mib`` per column measured (a
    ``memory`` suite's baseline and contender); ``errors`` per column that did not run
    (``"n/a: ..."`` when it cannot run this problem, anything else is a failure)."""

    suite: Suite
    name: str
    shape: str = ""
    algorithm: str = ""
    methods: list[str] = field(default_factory=list)
    ms: dict[str, float] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def speedup(self) -> Optional[float]:
        """``baseline`` ms / ``contender`` ms, when both ran."""
        return _ratio(self.ms.get(self.suite.baseline), self.ms.get(self.suite.contender))

    @property
    def failed(self) -> bool:
        return any(not error.startswith("n/a") for error in self.errors.values())


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return None if numerator is None or not denominator else numerator / denominator


def _timed(settings: Settings, fn: Method, inputs: Sequence[torch.Tensor]) -> Method:
    """``fn`` under autocast, and with its backward under ``--backward`` (gradients of the inputs
    it depends on, with a ones gradient made once; nothing accumulates between calls)."""
    if settings.amp is None:
        forward = fn
    else:

        def forward() -> object:
            with settings.autocast():
                return fn()

    if not settings.backward:
        return forward
    leaves = [t for t in inputs if t.requires_grad]
    grads: list[torch.Tensor] = []

    def run() -> None:
        out = forward()
        if isinstance(out, torch.Tensor) and out.requires_grad:  # a plain copy has no backward
            if not grads:
                grads.append(torch.ones_like(out))
            torch.autograd.grad(out, leaves, grads[0], allow_unused=True)

    return run


def _time(fn: Method, settings: Settings) -> float:
    """Median milliseconds of ``fn`` (the Timer synchronises the GPU)."""
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=settings.threads)
    return timer.blocked_autorange(min_run_time=settings.run_time).median * 1e3


def _peak_mib(settings: Settings, fn: Method) -> float:
    """The most MiB one call of ``fn`` allocates above what was allocated before it, its result
    included: CUDA's allocator statistics, or on CPU the highest running sum of the profiler's
    allocation (positive) and free (negative) events in time order."""
    if settings.device == "cuda":
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    with _stderr_to_devnull(), profiler.profile(activities=[profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"), key=lambda e: e.start_ns())
    return max(itertools.accumulate((e.nbytes() for e in events), initial=0)) / 2**20


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """File descriptor 2 to /dev/null: libkineto logs every profiler start and stop there, at any
    log level, through the progress bar."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0]


def run_bench(settings: Settings, suites: Optional[Sequence[str]] = None) -> list[CaseResult]:
    """Time every row of the named suites (default: all), columns alternating, twice each; a
    transient progress bar goes to stderr."""
    settings.check()
    chosen = [SUITES[name] for name in (suites or SUITES)]
    rows = [(suite, row) for suite in chosen for row in suite.rows_for(settings)]
    results = []
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task("tconv bench", total=len(rows))
        for suite, row in rows:
            progress.update(task, description=f"{suite.name}: {row.name}")
            results.append(_run_row(settings, suite, row, lambda fraction: progress.advance(task, fraction)))
    return results


def _run_row(settings: Settings, suite: Suite, row: Row, advance: Callable[[float], None]) -> CaseResult:
    result = CaseResult(suite, row.name)
    try:
        case = row.build(settings)
    except Exception as error:  # a row that cannot even be built is reported, not fatal
        result.errors["build"] = _short(error)
        advance(1)
        return result
    result.shape, result.algorithm, result.methods = case.shape, case.algorithm, list(case.methods)
    runnable = {}
    for name, method in case.methods.items():
        if isinstance(method, str):
            result.errors[name] = method
        else:
            runnable[name] = _timed(settings, method, case.inputs)
    for name, fn in runnable.items():
        try:
            fn()
        except Exception as error:
            result.errors[name] = _short(error)
    times: dict[str, list[float]] = {name: [] for name in runnable}
    steps = 2 * max(1, len(runnable))
    for _ in range(2):
        for name, fn in runnable.items():
            if name not in result.errors:
                try:
                    times[name].append(_time(fn, settings))
                except Exception as error:
                    result.errors[name] = _short(error)
            advance(1 / steps)
    result.ms = {name: min(values) for name, values in times.items() if values and name not in result.errors}
    if suite.memory:
        for name in (suite.baseline, suite.contender):
            if name in result.ms:
                result.peak_mib[name] = _peak_mib(settings, runnable[name])
    if not runnable:
        advance(1)
    return result


# --------------------------------------------------------------------------------------------
# Output


RECORD_FIELDS = (
    "suite", "case", "shape", "method", "algorithm", "ms", "speedup", "x_copy", "peak_mib", "error",
    "device", "dtype", "amp", "channels_last", "pass", "threads",
)  # fmt: skip


def records(results: Sequence[CaseResult], settings: Settings) -> list[dict[str, object]]:
    """One record per (row, column): ``ms``; ``speedup`` = the suite's baseline ms / ms;
    ``x_copy`` = ms / the row's ``copy`` ms (when it has one); ``peak_mib`` where measured;
    ``algorithm`` for tconv's column."""
    config = settings.describe()
    out = []
    for r in results:
        baseline, copy = r.ms.get(r.suite.baseline), r.ms.get("copy")
        for method in r.methods or list(r.errors):
            ms = r.ms.get(method)
            out.append(
                {
                    "suite": r.suite.name,
                    "case": r.name,
                    "shape": r.shape,
                    "method": method,
                    "algorithm": r.algorithm if method == r.suite.contender else "",
                    "ms": ms,
                    "speedup": _ratio(baseline, ms),
                    "x_copy": _ratio(ms, copy),
                    "peak_mib": r.peak_mib.get(method),
                    "error": r.errors.get(method, ""),
                    **{key: config[key] for key in ("device", "dtype", "amp", "channels_last", "pass", "threads")},
                }
            )
    return out


def to_csv(results: Sequence[CaseResult], settings: Settings) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records(results, settings):
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return buffer.getvalue()


def to_json(results: Sequence[CaseResult], settings: Settings) -> str:
    return json.dumps({"config": settings.describe(), "results": records(results, settings)}, indent=2) + "\n"


def _header(settings: Settings) -> str:
    layout = "channels_last" if settings.channels_last else "contiguous"
    dtype = f"amp {_dtype_name(settings.amp)}" if settings.amp else _dtype_name(settings.dtype)
    return (
        f"tconv bench: {settings.pass_name}, {settings.device}, {dtype}, {layout}, {'with' if settings.bias else 'no'} bias, "
        f"{settings.threads} threads, algorithm={settings.algorithm}{' (autotune)' if autotune_enabled() else ''}, "
        f"torch {torch.__version__}"
    )


def print_tables(results: Sequence[CaseResult], settings: Settings, console: Console) -> None:
    """One table per suite: a row per case, a column per method (ms), then the speedup of the
    contender over the baseline, with a ``copy`` column the contender's time in copies, and for a
    ``memory`` suite the peak MiB of baseline and contender."""
    console.print(_header(settings), highlight=False)
    for suite in dict.fromkeys(r.suite for r in results):
        rows = [r for r in results if r.suite is suite]
        methods = list(dict.fromkeys(m for r in rows for m in r.methods))
        has_copy = "copy" in methods
        caption = f"speedup = {suite.baseline} ms / {suite.contender} ms"
        if has_copy:
            caption += f"; × copy = {suite.contender} ms / copy ms"
        peaks = (suite.baseline, suite.contender) if suite.memory else ()
        if peaks:
            caption += "; peak MiB: the most one call allocates, its result included"
        table = Table(title=f"{suite.name}: {suite.title} (ms)", caption=caption)
        table.add_column("case")
        table.add_column("algorithm")
        for method in methods:
            table.add_column(method, justify="right")
        table.add_column("speedup", justify="right")
        if has_copy:
            table.add_column("× copy", justify="right")
        for method in peaks:
            table.add_column(f"peak MiB {method}", justify="right")
        notes = []
        for r in rows:
            cells = [r.name, r.algorithm or "-"]
            for method in methods:
                if method in r.ms:
                    cells.append(f"{r.ms[method]:.3f}")
                else:
                    error = r.errors.get(method, "")
                    cells.append("n/a" if error.startswith("n/a") else "[red]error[/red]" if error else "-")
            speedup = r.speedup
            cells.append("-" if speedup is None else f"{speedup:.2f}x")
            if has_copy:
                x_copy = _ratio(r.ms.get(suite.contender), r.ms.get("copy"))
                cells.append("-" if x_copy is None else f"{x_copy:.2f}")
            cells += [f"{r.peak_mib[method]:.1f}" if method in r.peak_mib else "-" for method in peaks]
            table.add_row(*cells)
            notes += [f"{r.name} / {method}: {error}" for method, error in r.errors.items()]
        console.print(table)
        for note in notes:
            console.print(f"  {note}", highlight=False, markup=False)


def plot(results: Sequence[CaseResult], settings: Settings, path: str) -> None:
    """A PNG bar chart: per suite, the time of every column for every case (log scale), the
    contender's bar labelled with its speedup. Headless (Agg); needs matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    suites = list(dict.fromkeys(r.suite for r in results))
    sizes = []
    for suite in suites:
        rows = [r for r in results if r.suite is suite]
        sizes.append(max(2.0, 0.22 * len(rows) * max(len(r.methods) for r in rows) + 1.0))
    figure = Figure(figsize=(10, sum(sizes) + 0.6), layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(_header(settings), fontsize=8)
    axes = figure.subplots(len(suites), 1, squeeze=False, height_ratios=sizes)[:, 0]
    colors = {}
    for ax, suite in zip(axes, suites):
        rows = [r for r in results if r.suite is suite]
        methods = list(dict.fromkeys(m for r in rows for m in r.methods))
        height = 0.8 / max(1, len(methods))
        for j, method in enumerate(methods):
            color = colors.setdefault(method, f"C{len(colors) % 10}")
            ys = [i + (j - (len(methods) - 1) / 2) * height for i in range(len(rows))]
            values = [r.ms.get(method, math.nan) for r in rows]
            ax.barh(ys, values, height=height, color=color, label=method)
            if method == suite.contender:
                for y, r in zip(ys, rows):
                    if r.speedup is not None:
                        ax.text(r.ms[method], y, f" {r.speedup:.2f}x", va="center", fontsize=7)
        ax.set_yticks(range(len(rows)), [r.name for r in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel(f"ms (lower is better); labels: speedup over {suite.baseline}", fontsize=8)
        ax.set_title(f"{suite.name}: {suite.title}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
    figure.savefig(path, dpi=120)


def write_output(results: Sequence[CaseResult], settings: Settings, fmt: str, output: Optional[str] = None) -> None:
    """``fmt`` (table, csv or json) to ``output``, or to stdout."""
    if fmt == "table":
        if output is None:
            print_tables(results, settings, Console(width=None if Console().is_terminal else 200))
            return
        buffer = io.StringIO()
        print_tables(results, settings, Console(file=buffer, width=200, no_color=True, force_terminal=False))
        text = buffer.getvalue()
    else:
        text = to_csv(results, settings) if fmt == "csv" else to_json(results, settings)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
