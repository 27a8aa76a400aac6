"""Running suites: every row built, its columns timed side by side, peak memory measured."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .harness import CaseResult, Row, Settings, Suite, _peak_mib, _short, _time, _timed
from .suites import SUITES


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
        built = row.build(settings)
    except Exception as error:  # a row that cannot even be built is reported, not fatal
        result.errors["build"] = _short(error)
        advance(1)
        return result
    result.shape, result.algorithm, result.methods = built.shape, built.algorithm, list(built.methods)
    runnable = {}
    for name, method in built.methods.items():
        if isinstance(method, str):
            result.errors[name] = method
        else:
            runnable[name] = _timed(settings, method, built.inputs)
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
