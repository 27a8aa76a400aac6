"""The algorithms and the dispatcher that picks one for a plan.

Each algorithm lives in its own module and declares, through ``why_not``, what it cannot run.
:func:`choose` takes a forced name (raising with that algorithm's reasons when it cannot run the
plan) or, for ``"auto"``, the autotuned winner when autotuning is on (:mod:`.autotune`), else the
first capable algorithm in the order of :func:`.heuristics.preference`.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from ..dispatch import Choice, Dispatcher, NoAlgorithmError
from ..plan import ConvTransposePlan
from . import autotune, heuristics
from .base import Algorithm
from .gemm import Gemm
from .native import Native
from .native_channels_last import NativeChannelsLast
from .nonoverlap import Nonoverlap
from .nonoverlap_compiled import NonoverlapCompiled
from .reference import Reference
from .subpixel import Subpixel
from .subpixel_compiled import SubpixelCompiled

TRANSPOSED = Dispatcher(
    (Native(), NativeChannelsLast(), Nonoverlap(), NonoverlapCompiled(), Subpixel(), SubpixelCompiled(), Gemm(), Reference()), heuristics.preference, lambda plan: "native",
    portable_when_compiling=True,
)
ALGORITHMS: dict[str, Algorithm] = TRANSPOSED.algorithms
get = TRANSPOSED.get
reasons = TRANSPOSED.reasons
select = TRANSPOSED.select


def choose(
    plan: ConvTransposePlan,
    algorithm: str = "auto",
    *,
    device: Optional[torch.device] = None,
    run: Optional[Callable[[str], None]] = None,
) -> Choice:
    """The algorithm for ``plan``. With autotuning on, ``"auto"`` and a ``run(name)`` that runs the
    problem with a named algorithm, the capable algorithms are timed once and the winner kept."""
    choice = TRANSPOSED.decide(plan, algorithm)
    if choice.how == "forced" or run is None or device is None or not autotune.autotune_enabled() or torch.compiler.is_compiling():
        return choice
    cached = autotune.cached_winner(plan, device)
    if cached in ALGORITHMS and not choice.reasons[cached]:
        return Choice(ALGORITHMS[cached], "autotune cache", choice.reasons, family=ALGORITHMS)
    candidates = [name for name, why in choice.reasons.items() if not why and ALGORITHMS[name].auto]
    winner, times = autotune.tune(plan, device, candidates, run)
    return Choice(ALGORITHMS[winner], "autotuned", choice.reasons, times, family=ALGORITHMS)


__all__ = ["ALGORITHMS", "Algorithm", "Choice", "NoAlgorithmError", "choose", "get", "reasons", "select"]
