"""``tconv check``: every algorithm against its family's float64 reference on random problems.

Every family's :data:`TESTS` (:class:`tconv.core.testing.FamilyTests`) says the same things:
random cases, which algorithms can run each, and the comparison with the family's float64
reference, written from the op's definition and sharing nothing with the code under test (the
scatter definition for transposed convolutions, PyTorch's own composition for the fused ops, the
combine-and-reduce loop for custom convolutions). Each algorithm is checked on problems drawn from
what it declares it runs (:meth:`~tconv.core.testing.FamilyTests.draw`), the same number for every
algorithm and dtype; those that compile a kernel per problem (seconds each) on at most
:data:`COMPILED_CASES`. An error passes when it is within the
:func:`~tconv.core.testing.tolerance` of the dtype and the problem's longest sum.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from .core.testing import FamilyTests
from .custom.testing import TESTS as CUSTOM_TESTS
from .fused.testing import TESTS as FUSED_TESTS
from .transposed.testing import TESTS as TRANSPOSED_TESTS

#: Every family's tests, in the report's order.
FAMILIES: tuple[FamilyTests, ...] = (TRANSPOSED_TESTS, FUSED_TESTS, CUSTOM_TESTS)
DTYPES = (torch.float32, torch.float64)
#: Problems an algorithm that compiles per problem checks per dtype, at most.
COMPILED_CASES = 20
#: Algorithms not checked: the families' forcible float64 paths, which are the references' kin.
UNCHECKED = ("reference",)


@dataclass
class Row:
    """One (algorithm, dtype) line of the report: the comparison with the largest error relative
    to its tolerance."""

    ops: str
    algorithm: str
    dtype: torch.dtype
    cases: int = 0
    error: float = 0.0
    tolerance: float = 0.0
    worst: str = ""
    declined: str = ""

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance

    @property
    def ratio(self) -> float:
        return self.error / self.tolerance if self.tolerance else 0.0


def run_check(count: int = 100, seed: int = 0, dtypes: Sequence[torch.dtype] = DTYPES) -> list[Row]:
    """Run every algorithm on random problems it declares it runs, per dtype, forward and gradients.

    Args:
        count: problems per algorithm and dtype (:data:`COMPILED_CASES` at most for the
            algorithms that compile a kernel per problem).
        seed: seed of the random problems and tensors.
        dtypes: the dtypes to check; an algorithm is checked in those it declares.

    Returns:
        A row per (algorithm, dtype): the transposed-convolution algorithms, then the fused ones,
        then the custom ones. An algorithm that runs none of the family's problems in a dtype has
        a row with no cases and the reason in ``declined``.
    """
    rows = []
    for family in FAMILIES:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)  # torch's note on even kernels
            rows += _measure(family, dtypes, count, seed)
    return rows


def _measure(family: FamilyTests, dtypes: Sequence[torch.dtype], count: int, seed: int) -> list[Row]:
    rows = []
    work = [(name, dtype) for name in family.algorithms if name not in UNCHECKED for dtype in dtypes]
    for name, dtype in track(work, description=f"checking {family.name}", transient=True):
        row = Row(family.name, name, dtype)
        rows.append(row)
        if not family.declares(name, dtype, seed=seed):
            row.declined = "runs none of the random problems in this dtype"
            continue
        cases = family.draw(
            name, dtype, min(count, COMPILED_CASES) if family.algorithms[name].compiles else count, seed
        )
        for index, (case, variant) in enumerate(cases):
            comparison = family.compare_with_reference(case, name, dtype, seed=seed + index, **variant)
            row.cases += 1
            if row.cases == 1 or comparison.error / comparison.tolerance > row.ratio:
                row.error, row.tolerance, row.worst = comparison.error, comparison.tolerance, comparison.label
    return rows


def print_report(rows: list[Row], console: Console) -> None:
    """A table per family, then the worst case of each failing row."""
    for family in FAMILIES:
        table = Table(title=family.title)
        for column in ("algorithm", "dtype", "cases", "worst error", "its tolerance", "result"):
            table.add_column(column, justify="left" if column in ("algorithm", "dtype", "result") else "right")
        for row in (row for row in rows if row.ops == family.name):
            if row.declined:
                result = f"[dim]not run: {row.declined}[/dim]"
            else:
                result = "[green]pass[/green]" if row.passed else "[red]FAIL[/red]"
            table.add_row(
                row.algorithm,
                str(row.dtype).removeprefix("torch."),
                str(row.cases),
                f"{row.error:.2e}" if row.cases else "",
                f"{row.tolerance:.2e}" if row.cases else "",
                result,
            )
        console.print(table)
    for row in rows:
        if not row.passed:
            console.print(f"[red]{row.ops} {row.algorithm} {row.dtype}: worst case {row.worst}[/red]")
