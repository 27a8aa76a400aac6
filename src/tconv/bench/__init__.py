"""``tconv bench``: tconv against what a PyTorch user would write, timed side by side in one run.

Suites
------
A suite is a name, a title, a tuple of rows and the two columns its speedup compares
(``baseline`` and ``contender``); :data:`SUITES` is the registry the command line reads. A row
knows its name, whether ``--quick`` keeps it, the devices it is meant for, and how to ``build`` a
:class:`RowRun` for a :class:`Settings`: its input tensors and one zero-argument callable per
column, in column order. Adding a suite means writing a module of :mod:`tconv.bench.suites` with
its rows (or reusing a row class) and its ``SUITE``, and adding that to :data:`SUITES`; dtype,
device, memory format, autocast, forward+backward, timing, output and plotting are the runner's
business, not the row's.

* ``upsample``: the ×2 upsampling modules people compare, on a ``[B, C, 16, 16]`` input: nearest,
  a 3×3 depthwise convolution (at the input resolution, padding 1), PyTorch's depthwise
  transposed convolution with kernel = stride = 2, bilinear (``align_corners=False``), tconv's
  depthwise transposed convolution, and ``copy``: a plain copy moving as many bytes as the
  transposed convolution must at least move (see :func:`~tconv.bench.suites.common.plain_copy`),
  so "within 2× of a copy" reads off the ``× copy`` column.
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
  ``F.unfold`` recipe people write (:func:`~tconv.bench.suites.custom.unfold_recipe`: unfold,
  broadcast against the weight over the output channels, combine, reduce), 3×3 with padding 1;
  the ``mul``/``sum`` row adds ``torch_conv`` (``F.conv2d``), which it must match. Reports peak
  memory. tconv's first call of a problem compiles its kernel (``compiled``); the warm-up call
  takes it, the timing does not.
* ``optimize``: a decoder as people write it (:class:`~tconv.bench.suites.optimize.Decoder`:
  nearest upsampling + conv, conv + average pooling, a k4 s2 transposed convolution,
  ``F.interpolate`` + conv, bilinear upsampling + conv) against ``tconv.optimize`` of it. Reports
  peak memory.

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

Output
------
``table`` (rich, one table per suite), ``markdown`` (the same tables in GitHub markdown), ``csv``
and ``json`` (one record per row and column, with the settings), and a PNG bar chart (``--plot``).

Modules
-------
* :mod:`tconv.bench.harness`: :class:`Settings`, the row and suite protocol (:class:`Row`,
  :class:`RowRun`, :class:`Suite`), timing, peak memory, :func:`run_bench`.
* :mod:`tconv.bench.suites`: :data:`SUITES`, and a module per suite (``upsample``, ``convt``,
  ``resample``, ``custom``, ``optimize``) with its rows and baselines; ``common`` holds what they
  share (tconv's column, the plain copy).
* :mod:`tconv.bench.formats`: :func:`records`, CSV, JSON, the rich and markdown tables,
  :func:`plot`, :func:`write_output`.
"""

from __future__ import annotations

from .formats import FORMATS, RECORD_FIELDS, plot, print_tables, records, to_csv, to_json, to_markdown, write_output
from .harness import AMP_DEFAULT, DTYPES, CaseResult, Method, Row, RowRun, Settings, Suite
from .harness import _peak_mib as _peak_mib  # the tests measure known allocations with it
from .runner import run_bench
from .suites import SUITES
from .suites.common import LabelledRow, plain_copy
from .suites.convt import ConvTRow
from .suites.custom import RECIPE_COMBINE, RECIPE_REDUCE, CustomRow, unfold_recipe
from .suites.optimize import Decoder, OptimizeRow
from .suites.resample import ResampleRow
from .suites.upsample import UpsampleRow

__all__ = [
    "AMP_DEFAULT",
    "DTYPES",
    "FORMATS",
    "RECIPE_COMBINE",
    "RECIPE_REDUCE",
    "RECORD_FIELDS",
    "SUITES",
    "CaseResult",
    "ConvTRow",
    "CustomRow",
    "Decoder",
    "LabelledRow",
    "Method",
    "OptimizeRow",
    "ResampleRow",
    "Row",
    "RowRun",
    "Settings",
    "Suite",
    "UpsampleRow",
    "plain_copy",
    "plot",
    "print_tables",
    "records",
    "run_bench",
    "to_csv",
    "to_json",
    "to_markdown",
    "unfold_recipe",
    "write_output",
]
