"""``tconv bench`` (see :mod:`tconv.bench.harness`, which this commit moved from ``tconv/bench.py``)."""

from .harness import (  # noqa: F401
    AMP_DEFAULT,
    DTYPES,
    FORMATS,
    RECIPE_COMBINE,
    RECIPE_REDUCE,
    RECORD_FIELDS,
    SUITES,
    Case,
    CaseResult,
    Settings,
    Suite,
    _peak_mib,
    plot,
    run_bench,
    unfold_recipe,
    write_output,
)
