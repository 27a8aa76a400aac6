"""``tconv check``: every algorithm against the float64 reference on random problems.

The transposed-convolution algorithms run on :mod:`tconv.testing`'s random problems against the
float64 reference; the fused resampling algorithms on :mod:`tconv.fused.testing`'s against the
plain torch composition in float64; the custom-convolution algorithms on
:mod:`tconv.custom.testing`'s against the unfold recipe in float64. Algorithms that compile a
kernel per problem (seconds each) check their first :data:`COMPILED_CASES` problems.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from . import algorithms, custom, fused
from .algorithms.base import Algorithm
from .custom import testing as custom_testing
from .fused.testing import Config, compare_with_composition, random_configs, torch_accepts, unable
from .testing import TOLERANCE, Case, compare_with_reference, random_cases, supports

DTYPES = (torch.float32, torch.float64)
#: The report's tables: a row's ``ops`` and the table's title.
TITLES = {
    "conv_transpose": "conv_transpose: forward and gradients against the float64 reference",
    "fused": "upsample_conv, conv_pool: forward and gradients against the float64 composition",
    "custom": "custom_conv: forward and gradients against the float64 unfold recipe",
}
#: Problems an algorithm that compiles per problem checks, per dtype.
COMPILED_CASES = 3


@dataclass
class Row:
    """One (algorithm, dtype) line of the report."""

    ops: str
    algorithm: str
    dtype: torch.dtype
    cases: int = 0
    skipped: int = 0
    max_error: float = 0.0
    worst: str = ""

    @property
    def passed(self) -> bool:
        return self.max_error <= TOLERANCE[self.dtype]


def run_check(count: int = 300, seed: int = 0, dtypes: tuple[torch.dtype, ...] = DTYPES) -> list[Row]:
    """Run every algorithm on random problems per dtype, forward and gradients.

    Args:
        count: random problems of each kind: transposed convolutions, fused calls
            (``upsample_conv`` and ``conv_pool``).
        seed: seed of the random problems and tensors.
        dtypes: the dtypes to run each problem in.

    Returns:
        A row per (algorithm, dtype): the transposed-convolution algorithms, then the fused
        ones, then the custom ones.
    """

    def transposed(index: int, case: Case, name: str, dtype: torch.dtype) -> Optional[float]:
        channels_last = index % 3 == 0
        if not supports(name, case, dtype, channels_last=channels_last):
            return None
        return compare_with_reference(case, name, dtype, seed=seed + index, channels_last=channels_last)

    def resampling(index: int, cfg: Config, name: str, dtype: torch.dtype) -> Optional[float]:
        # skipped where torch's own composition refuses the call, or the algorithm declares it cannot
        if not torch_accepts(cfg) or unable(cfg, dtype)[name]:
            return None
        return compare_with_composition(cfg, name, dtype, seed=seed + index)

    def customized(index: int, cfg: custom_testing.Config, name: str, dtype: torch.dtype) -> Optional[float]:
        if custom_testing.unable(cfg, dtype)[name]:
            return None
        return custom_testing.compare_with_reference(cfg, name, dtype, seed=seed + index)

    rows = _measure("conv_transpose", algorithms.ALGORITHMS, dtypes, random_cases(seed, count), transposed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)  # torch's note on even kernels
        rows += _measure("fused", fused.ALGORITHMS, dtypes, random_configs(seed, count), resampling)
    rows += _measure("custom", custom.ALGORITHMS, dtypes, custom_testing.random_configs(seed, count), customized)
    return rows


def _measure(
    ops: str, family: Mapping[str, Algorithm], dtypes: Sequence[torch.dtype], cases: Sequence, error: Callable[..., Optional[float]]
) -> list[Row]:
    """A row per (algorithm, dtype), filled with ``error(index, case, name, dtype)`` on every case
    (``None``: skipped); compiling algorithms stop after :data:`COMPILED_CASES`."""
    rows = [Row(ops, name, dtype) for name in family for dtype in dtypes]
    for index, case in enumerate(track(cases, description=f"checking {ops}", transient=True)):
        for row in rows:
            if family[row.algorithm].compiles and row.cases >= COMPILED_CASES:
                row.skipped += 1
                continue
            value = error(index, case, row.algorithm, row.dtype)
            if value is None:
                row.skipped += 1
                continue
            row.cases += 1
            if value >= row.max_error:
                row.max_error, row.worst = value, str(case)
    return rows


def print_report(rows: list[Row], console: Console) -> None:
    """A table per kind of op (the rows' ``ops``), then the worst case of each failing row."""
    for ops, title in TITLES.items():
        table = Table(title=title)
        for column in ("algorithm", "dtype", "cases", "skipped", "max relative error", "tolerance", "result"):
            table.add_column(column, justify="left" if column in ("algorithm", "dtype", "result") else "right")
        for row in (row for row in rows if row.ops == ops):
            table.add_row(
                row.algorithm,
                str(row.dtype).removeprefix("torch."),
                str(row.cases),
                str(row.skipped),
                f"{row.max_error:.2e}",
                f"{TOLERANCE[row.dtype]:.0e}",
                "[green]pass[/green]" if row.passed else "[red]FAIL[/red]",
            )
        console.print(table)
    for row in rows:
        if not row.passed:
            console.print(f"[red]{row.ops} {row.algorithm} {row.dtype}: worst case {row.worst}[/red]")
