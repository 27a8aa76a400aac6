"""``tconv check``: every algorithm against the float64 reference on random problems.

Every family's :data:`TESTS` (:class:`tconv.core.testing.FamilyTests`) says the same things:
random cases, which algorithms can run each, and the comparison with the family's float64
reference (the definition for transposed convolutions, the plain torch composition for the fused
ops, the unfold recipe for custom convolutions). Algorithms that compile a kernel per problem
(seconds each) check their first :data:`COMPILED_CASES` problems.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from .core.testing import TOLERANCE, FamilyTests
from .custom.testing import TESTS as CUSTOM_TESTS
from .fused.testing import TESTS as FUSED_TESTS
from .transposed.testing import TESTS as TRANSPOSED_TESTS

#: Every family's tests, in the report's order.
FAMILIES: tuple[FamilyTests, ...] = (TRANSPOSED_TESTS, FUSED_TESTS, CUSTOM_TESTS)
DTYPES = (torch.float32, torch.float64)
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

    rows = []
    for family in FAMILIES:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)  # torch's note on even kernels
            rows += _measure(family, dtypes, family.random_cases(seed, count), seed)
    return rows


def _measure(family: FamilyTests, dtypes: Sequence[torch.dtype], cases: Sequence, seed: int) -> list[Row]:
    """A row per (algorithm, dtype), filled with the error of every case the algorithm can run
    (the others skipped); compiling algorithms stop after :data:`COMPILED_CASES`."""
    rows = [Row(family.name, name, dtype) for name in family.algorithms for dtype in dtypes]
    for index, case in enumerate(track(cases, description=f"checking {family.name}", transient=True)):
        testable = family.testable(case)
        layout = family.layout(index)
        unable = {dtype: family.unable(case, dtype, **layout) for dtype in dtypes} if testable else {}
        for row in rows:
            if (
                not testable
                or unable[row.dtype][row.algorithm]
                or (family.algorithms[row.algorithm].compiles and row.cases >= COMPILED_CASES)
            ):
                row.skipped += 1
                continue
            value = family.compare_with_reference(case, row.algorithm, row.dtype, seed=seed + index, **layout)
            row.cases += 1
            if value >= row.max_error:
                row.max_error, row.worst = value, str(case)
    return rows


def print_report(rows: list[Row], console: Console) -> None:
    """A table per kind of op (the rows' ``ops``), then the worst case of each failing row."""
    for family in FAMILIES:
        table = Table(title=family.title)
        for column in ("algorithm", "dtype", "cases", "skipped", "max relative error", "tolerance", "result"):
            table.add_column(column, justify="left" if column in ("algorithm", "dtype", "result") else "right")
        for row in (row for row in rows if row.ops == family.name):
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
