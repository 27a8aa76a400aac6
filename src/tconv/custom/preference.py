"""The custom family's default choice, made without measuring: an order of preference per problem."""

from __future__ import annotations

from .plan import CustomPlan


def preference(plan: CustomPlan) -> tuple[str, ...]:
    """Linear presets: ``conv``; the rest: ``compiled``, else ``chunked`` (``tconv bench --suite
    custom``, BENCHMARKS.md)."""
    return ("conv", "compiled", "chunked") if plan.linear else ("compiled", "chunked")


def portable(plan: CustomPlan) -> str:
    """Exported: ordinary convolutions for the linear presets, else the recipe (slices of the
    padded input, combine, reduce: standard operators)."""
    return "conv" if plan.linear else "unfold"
