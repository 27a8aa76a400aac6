"""The preset combine and reduce functions, each with its hand-written derivatives.

A combine preset maps an input sample ``x`` and a weight ``w`` (broadcast against each other) to
one value; :meth:`CombinePreset.grad` turns the gradient ``G`` of those values into the gradients of
``x`` and ``w`` (``sum_to_size`` folds the broadcast back); ``abs_diff`` takes the slope -1 in
``x`` (+1 in ``w``) where ``x == w``. A reduce preset maps the values of a
window to one output; :meth:`ReducePreset.spread` sends an output's gradient back to the values:
evenly for ``sum`` and ``mean``, to the *first* winning value for ``max`` and ``min`` (a valid
subgradient when several tie), and by the softmax weights for ``logsumexp``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor


@dataclass(frozen=True)
class CombinePreset:
    """``value(x, w)``, and ``grad(x, w, G) -> (dx, dw)`` summed to the shapes of ``x`` and ``w``;
    ``traced`` (default ``value``) computes the same values in a form whose autograd derivative
    follows ``grad``'s choice where the function has a kink (what the recipe algorithms run)."""

    value: Callable[[Tensor, Tensor], Tensor]
    grad: Callable[[Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]
    traced: Optional[Callable[[Tensor, Tensor], Tensor]] = None

    @property
    def differentiable(self) -> Callable[[Tensor, Tensor], Tensor]:
        return self.traced or self.value


@dataclass(frozen=True)
class ReducePreset:
    """``value(t, dims)`` over the trailing ``dims``, and ``spread(t, out, g, k)``: the gradient of
    ``t`` (broadcastable to it) given the gradient ``g`` of ``out``, the reduction of the last
    ``k`` dimensions of ``t``."""

    value: Callable[[Tensor, tuple[int, ...]], Tensor]
    spread: Callable[[Tensor, Tensor, Tensor, int], Tensor]


def _mul_grad(x: Tensor, w: Tensor, G: Tensor) -> tuple[Tensor, Tensor]:
    return (G * w).sum_to_size(x.shape), (G * x).sum_to_size(w.shape)


def _add_grad(x: Tensor, w: Tensor, G: Tensor) -> tuple[Tensor, Tensor]:
    G = G.expand(torch.broadcast_shapes(x.shape, w.shape, G.shape))
    return G.sum_to_size(x.shape), G.sum_to_size(w.shape)


def _sub_grad(x: Tensor, w: Tensor, G: Tensor) -> tuple[Tensor, Tensor]:
    dx, dw = _add_grad(x, w, G)
    return dx, -dw


def _abs_diff_grad(x: Tensor, w: Tensor, G: Tensor) -> tuple[Tensor, Tensor]:
    # the slope of |x - w| in x, taken as -1 where x == w (a valid subgradient): one comparison
    # and a select per value, which compiled kernels run in half the time of G * sign(x - w)
    D = torch.where(x > w, G, -G)
    return D.sum_to_size(x.shape), -D.sum_to_size(w.shape)


def _sq_diff_grad(x: Tensor, w: Tensor, G: Tensor) -> tuple[Tensor, Tensor]:
    D = G * (x - w)
    return 2 * D.sum_to_size(x.shape), -2 * D.sum_to_size(w.shape)


COMBINE: dict[str, CombinePreset] = {
    "mul": CombinePreset(torch.mul, _mul_grad),
    "add": CombinePreset(torch.add, _add_grad),
    "sub": CombinePreset(torch.sub, _sub_grad),
    "abs_diff": CombinePreset(
        lambda x, w: torch.abs(x - w), _abs_diff_grad, lambda x, w: torch.where(x > w, x - w, w - x)
    ),
    "sq_diff": CombinePreset(lambda x, w: torch.square(x - w), _sq_diff_grad),
}


def _keep(g: Tensor, k: int) -> Tensor:
    """``g`` with ``k`` trailing dimensions of size one (the reduced ones, kept)."""
    return g.reshape(*g.shape, *(1,) * k)


def _to_first_winner(t: Tensor, out: Tensor, g: Tensor, k: int) -> Tensor:
    """``max``/``min``'s spread: all of ``g`` to the first value equal to ``out`` (several may tie).
    Positions are counted in float32 (exact below 2**24 values per window) and found with
    ``where`` and ``amin``, which compiled kernels vectorise, unlike ``argmax`` and int64; no
    flattening, which would copy ``t`` in eager mode."""
    window = t.shape[-k:]
    dims = tuple(range(-k, 0))
    positions = torch.arange(math.prod(window), device=t.device, dtype=torch.float32).view(window)
    first = torch.where(t == _keep(out, k), positions, math.prod(window)).amin(dims, keepdim=True)
    return (positions == first) * _keep(g, k)  # no scatter: compiled kernels fuse it


REDUCE: dict[str, ReducePreset] = {
    "sum": ReducePreset(torch.sum, lambda t, out, g, k: _keep(g, k)),
    "mean": ReducePreset(torch.mean, lambda t, out, g, k: _keep(g, k) / math.prod(t.shape[-k:])),
    "max": ReducePreset(torch.amax, _to_first_winner),
    "min": ReducePreset(torch.amin, _to_first_winner),
    "logsumexp": ReducePreset(torch.logsumexp, lambda t, out, g, k: _keep(g, k) * torch.exp(t - _keep(out, k))),
}
