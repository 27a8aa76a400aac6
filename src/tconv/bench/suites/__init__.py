"""The suites of ``tconv bench``, one module each, and :data:`SUITES`, the registry the command line
reads. Adding a suite means writing a module with its rows (or reusing a row class) and a ``SUITE``,
and adding it here."""

from __future__ import annotations

from ..harness import Suite
from . import convt, custom, optimize, resample, upsample

#: Every suite by name, in the order they run and print.
SUITES: dict[str, Suite] = {
    suite.name: suite for suite in (upsample.SUITE, convt.SUITE, resample.SUITE, custom.SUITE, optimize.SUITE)
}
