"""The output of ``tconv bench``: :func:`records` (one per row and column), CSV, JSON, a rich table
and a GitHub-markdown table per suite, and a PNG bar chart (:func:`plot`)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

import torch
from rich.console import Console
from rich.table import Table

from ..core.autotune import autotune_enabled
from .harness import CaseResult, Settings, _dtype_name, _ratio

FORMATS = ("table", "csv", "json", "markdown")


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
    bias = "with" if settings.bias else "no"
    return (
        f"tconv bench: {settings.pass_name}, {settings.device}, {dtype}, {layout}, {bias} bias, "
        f"{settings.threads} threads, algorithm={settings.algorithm}{' (autotune)' if autotune_enabled() else ''}, "
        f"torch {torch.__version__}"
    )


@dataclass
class _SuiteTable:
    """One suite's table as the table and markdown formats show it: a row per case, a column per
    method (ms), then the speedup of the contender over the baseline, with a ``copy`` column the
    contender's time in copies, and for a ``memory`` suite the peak MiB of baseline and contender;
    ``right`` says which columns are right-aligned, ``notes`` are the errors of the columns that did
    not run."""

    title: str
    caption: str
    columns: list[str] = field(default_factory=list)
    right: list[bool] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _suite_tables(results: Sequence[CaseResult], error_cell: str) -> Iterator[_SuiteTable]:
    """The table of each suite in ``results``, in their order; a column that failed shows
    ``error_cell``."""
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
        table = _SuiteTable(f"{suite.name}: {suite.title} (ms)", caption)
        columns = ["case", "algorithm", *methods, "speedup", *(["× copy"] if has_copy else [])]
        columns += [f"peak MiB {method}" for method in peaks]
        table.columns, table.right = columns, [False, False] + [True] * (len(columns) - 2)
        for r in rows:
            cells = [r.name, r.algorithm or "-"]
            for method in methods:
                if method in r.ms:
                    cells.append(f"{r.ms[method]:.3f}")
                else:
                    error = r.errors.get(method, "")
                    cells.append("n/a" if error.startswith("n/a") else error_cell if error else "-")
            speedup = r.speedup
            cells.append("-" if speedup is None else f"{speedup:.2f}x")
            if has_copy:
                x_copy = _ratio(r.ms.get(suite.contender), r.ms.get("copy"))
                cells.append("-" if x_copy is None else f"{x_copy:.2f}")
            cells += [f"{r.peak_mib[method]:.1f}" if method in r.peak_mib else "-" for method in peaks]
            table.rows.append(cells)
            table.notes += [f"{r.name} / {method}: {error}" for method, error in r.errors.items()]
        yield table


def print_tables(results: Sequence[CaseResult], settings: Settings, console: Console) -> None:
    """One rich table per suite (see :class:`_SuiteTable`), under a header line of the settings."""
    console.print(_header(settings), highlight=False)
    for suite_table in _suite_tables(results, "[red]error[/red]"):
        table = Table(title=suite_table.title, caption=suite_table.caption)
        for column, right in zip(suite_table.columns, suite_table.right):
            table.add_column(column, justify="right" if right else "left")
        for cells in suite_table.rows:
            table.add_row(*cells)
        console.print(table)
        for note in suite_table.notes:
            console.print(f"  {note}", highlight=False, markup=False)


def _markdown_escape(text: str) -> str:
    """``text`` with the characters markdown would read as markup (``|`` ends a table cell)
    backslash-escaped."""
    for char in "\\`*<|":
        text = text.replace(char, "\\" + char)
    return text


def _machine(settings: Settings) -> str:
    """The device's name: the GPU's, or the CPU model (``/proc/cpuinfo`` on Linux) and its cores."""
    name = settings.describe()["device_name"]
    if settings.device != "cpu":
        return str(name)
    try:
        with open("/proc/cpuinfo") as info:
            models = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    except OSError:
        models = []
    return f"{models[0] if models else name} ({os.cpu_count()} cores)"


def _malloc() -> str:
    """glibc malloc's thresholds as the environment sets them (they move PyTorch's CPU timings)."""
    chosen = [
        f"{key}={os.environ[key]}" for key in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_") if key in os.environ
    ]
    return "malloc " + (" ".join(chosen) if chosen else "default")


def to_markdown(results: Sequence[CaseResult], settings: Settings) -> str:
    """The table format in GitHub markdown: the header line (and the machine), then per suite a
    line with its title, a table with the same columns and numbers, its caption, and its notes."""
    lines = [_markdown_escape(f"{_header(settings)}, machine {_machine(settings)}, {_malloc()}")]
    for table in _suite_tables(results, "error"):
        lines += ["", f"**{_markdown_escape(table.title)}**", ""]
        lines.append("| " + " | ".join(map(_markdown_escape, table.columns)) + " |")
        lines.append("| " + " | ".join("---:" if right else "---" for right in table.right) + " |")
        lines += ["| " + " | ".join(map(_markdown_escape, cells)) + " |" for cells in table.rows]
        lines += ["", _markdown_escape(table.caption)]
        if table.notes:
            lines += ["", *(f"- {_markdown_escape(note)}" for note in table.notes)]
    return "\n".join(lines) + "\n"


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
    """``fmt`` (table, csv, json or markdown) to ``output``, or to stdout."""
    if fmt == "table":
        if output is None:
            print_tables(results, settings, Console(width=None if Console().is_terminal else 200))
            return
        buffer = io.StringIO()
        print_tables(results, settings, Console(file=buffer, width=200, no_color=True, force_terminal=False))
        text = buffer.getvalue()
    else:
        text = {"csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt](results, settings)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with open(output, "w", encoding="utf-8") as file:
            file.write(text)
