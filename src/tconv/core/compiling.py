"""Kernels compiled by ``torch.compile`` (inductor), for every algorithm that uses them.

An algorithm hands :func:`run` its problem (a hashable plan), the role of a kernel, an eager
function of tensors and the tensors. The function is traced with ``make_fx`` and compiled by
inductor (``torch._inductor.compile``: no dynamo, whose guards cost 40 µs a call) once per
problem, role and argument layout, the cache key doing the guards' work; kernels are kept in a
bounded cache. Compiling takes seconds the first time a problem is seen, one compile at a time
(tracing and inductor are not thread-safe). If it fails, the call runs eagerly with a warning and
:func:`why_not` makes the algorithm decline that problem from then on. :func:`set_compile`
switches every compiled algorithm off.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from typing import Callable, Hashable, Optional

import torch
import torch._inductor
from torch.fx.experimental.proxy_tensor import make_fx

from . import dispatch

_state = {"enabled": True}
_failed: dict[Hashable, str] = {}
_compiled: OrderedDict[tuple, Callable] = OrderedDict()
_compiling = threading.Lock()
CACHE_SIZE = 256


def set_compile(enabled: bool) -> None:
    """Switch tconv's compiled kernels on (the default) or off. Off, ``auto`` picks no compiled
    algorithm (the custom convolutions' ``compiled``, the transposed ``nonoverlap_compiled`` and
    ``subpixel_compiled``) and forcing one raises :class:`~tconv.NoAlgorithmError`."""
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled: expected True or False; got {enabled!r}")
    _state["enabled"] = enabled
    dispatch.forget_decisions()


def compile_enabled() -> bool:
    return _state["enabled"]


def why_not(problem: Hashable, *, batch: int) -> list[str]:
    """Why a compiled algorithm cannot run ``problem`` of ``batch`` samples: compiling is off, or
    failed for it, or the batch is empty (no kernel to compile; the others return it at once)."""
    reasons = [] if batch else ["an empty batch: nothing to compile a kernel for"]
    if not _state["enabled"]:
        reasons.append("compiling is switched off (tconv.set_compile(False))")
    if problem in _failed:
        reasons.append(f"compiling this problem failed: {_failed[problem]}")
    return reasons


def run(problem: Hashable, role: str, function: Callable[..., object], *args: torch.Tensor):
    """``function(*args)``, compiled for this problem, role and argument layout."""
    if (
        problem in _failed or torch.compiler.is_compiling() or torch.jit.is_tracing()
    ):  # an outer trace sees the eager function
        return function(*args)
    key = (problem, role, *((a.shape, a.stride(), a.dtype, a.device) for a in args))
    compiled = _compiled.get(key)
    if compiled is None:
        with _compiling:  # make_fx and inductor are not thread-safe: one compile at a time
            compiled = _compiled.get(key) or _compile(problem, key, function, args)
    return compiled(*args) if compiled is not None else function(*args)


def _compile(problem: Hashable, key: tuple, function: Callable[..., object], args: tuple) -> Optional[Callable]:
    """Compile and cache ``function`` for ``args``; None (with a warning) if that fails."""
    try:
        with warnings.catch_warnings():  # the compiler's own notices must not fail it under -W error
            warnings.simplefilter("ignore")
            graph = make_fx(function, tracing_mode="fake")(*args)
            compiled = torch._inductor.compile(graph, list(args))  # no dynamo: the key is the guard
            compiled(*args)  # the first call finishes compiling
    except Exception as error:  # noqa: BLE001 - any failure of the compiler falls back to eager
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        _failed[problem] = reason
        dispatch.forget_decisions()
        warnings.warn(f"tconv: compiling failed ({reason}); running it eagerly", RuntimeWarning, stacklevel=4)
        return None
    _compiled[key] = compiled
    while len(_compiled) > CACHE_SIZE:
        _compiled.popitem(last=False)
    return compiled
