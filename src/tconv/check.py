"""``tconv check``: every algorithm against the float64 reference on random problems."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from rich.console import Console
from rich.progress import track
from rich.table import Table

from . import algorithms
from .testing import TOLERANCE, compare_with_reference, random_cases, supports


@dataclass
class Row:
    algorithm: str
    dtype: torch.dtype
    cases: int = 0
    skipped: int = 0
    max_error: float = 0.0
    worst: str = ""

    @property
    def passed(self) -> bool:
        return self.max_error <= TOLERANCE[self.dtype]


def run_check(count: int = 300, seed: int = 0, dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64)) -> list[Row]:
    """Run every algorithm on ``count`` random problems per dtype (forward and gradients)."""
    rows = {(name, dtype): Row(name, dtype) for name in algorithms.ALGORITHMS for dtype in dtypes}
    cases = random_cases(seed, count)
    for index, case in enumerate(track(cases, description="checking", transient=True)):
        channels_last = index % 3 == 0
        for (name, dtype), row in rows.items():
            if not supports(name, case, dtype, channels_last=channels_last):
                row.skipped += 1
                continue
            error = compare_with_reference(case, name, dtype, seed=seed + index, channels_last=channels_last)
            row.cases += 1
            if error >= row.max_error:
                row.max_error, row.worst = error, str(case)
    return list(rows.values())


def print_report(rows: list[Row], console: Console) -> None:
    table = Table(title="tconv check: forward and gradients against the float64 reference")
    for column in ("algorithm", "dtype", "cases", "skipped", "max relative error", "tolerance", "result"):
        table.add_column(column, justify="left" if column in ("algorithm", "dtype", "result") else "right")
    for row in rows:
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
            console.print(f"[red]{row.algorithm} {row.dtype}: worst case {row.worst}[/red]")
