"""The custom convolution from its definition, in float64: what every custom algorithm is tested against.

``out[n, o, p] = reduce over (tap, c) of combine(x_padded[n, c, p * stride + tap * dilation], weight[o, c, tap])``,
plus ``bias[o]``.

:func:`custom_conv_reference` takes the public arguments of :func:`tconv.custom_conv2d` and
nothing else: it imports nothing from tconv (a test reads its imports). It pads by its own rule
(``"same"`` puts the odd sample at the end, as ``nn.ConvNd`` does), defines the preset combines and
reduces here from their documented meaning, and finds each window's samples by index
arithmetic, output position by output position and tap by tap. It is slow and obvious on purpose.
The ``reference`` algorithm (:mod:`.algorithms.reference`) runs it when forced by name.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def _abs_diff(x: Tensor, w: Tensor) -> Tensor:
    # |x - w|, whose slope where x == w is taken as -1 in x and +1 in w (the documented subgradient):
    # the second branch is the one taken at equality
    return torch.where(x > w, x - w, w - x)


#: ``combine(x, w)`` for a sample ``x`` and a weight ``w``.
COMBINES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "mul": lambda x, w: x * w,
    "add": lambda x, w: x + w,
    "sub": lambda x, w: x - w,
    "abs_diff": _abs_diff,
    "sq_diff": lambda x, w: (x - w) * (x - w),
}


def _first_winner(t: Tensor, dim: int, largest: bool) -> Tensor:
    """The largest (smallest) value along ``dim``, as a sum in which only the first winning entry
    has weight one: its gradient goes to that entry alone (the documented choice among ties)."""
    best = (t.amax if largest else t.amin)(dim, keepdim=True).detach()
    winners = t.detach() == best
    first = winners & (winners.cumsum(dim) == 1)
    return (t * first).sum(dim)


def _logsumexp(t: Tensor, dim: int) -> Tensor:
    """``log(sum(exp(t)))``, shifted by the (constant) largest value so that ``exp`` cannot overflow."""
    shift = t.detach().amax(dim, keepdim=True)
    return torch.log(torch.exp(t - shift).sum(dim)) + shift.squeeze(dim)


#: ``reduce(t, dim)`` over a window's (tap, channel) pairs along ``dim``.
REDUCES: dict[str, Callable[[Tensor, int], Tensor]] = {
    "sum": lambda t, dim: t.sum(dim),
    "mean": lambda t, dim: t.sum(dim) / t.shape[dim],
    "max": lambda t, dim: _first_winner(t, dim, largest=True),
    "min": lambda t, dim: _first_winner(t, dim, largest=False),
    "logsumexp": _logsumexp,
}


def _per_axis(value: object, ndim: int) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim


def pads(padding: object, kernel: tuple, dilation: tuple) -> list[tuple[int, int]]:
    """``(begin, end)`` samples of padding per spatial axis: ``padding`` is an int, one int or
    ``(begin, end)`` pair per axis, ``"valid"`` (none) or ``"same"`` (``dilation * (kernel - 1)`` in
    all, half at the start and the rest, the odd sample, at the end)."""
    ndim = len(kernel)
    if padding == "valid":
        return [(0, 0)] * ndim
    if padding == "same":
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(total // 2, total - total // 2) for total in totals]
    return [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in _per_axis(padding, ndim)]


def custom_conv_reference(
    input: Tensor,
    weight: Tensor,
    bias: Optional[Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    combine: object = "mul",
    reduce: object = "sum",
) -> Tensor:
    """``tconv.custom_convNd(input, weight, bias, stride, padding, dilation, groups,
    combine=combine, reduce=reduce, padding_mode=padding_mode)`` from the definition, in float64.

    The spatial axes are the weight's (``weight.dim() - 2``); ``input`` may be unbatched.
    ``padding`` takes what the public functions take and, besides, a ``(begin, end)`` pair per
    axis. ``combine`` and ``reduce`` are preset names or callables (``combine=None`` and
    ``reduce=None`` are ``"mul"`` and ``"sum"``, the public defaults); a callable reduce gets the
    window's (tap, channel) pairs tap-major along ``dim``. Arguments are not checked.

    Returns:
        the output in float64, ``(N, Cout, *out)`` (``(Cout, *out)`` for an unbatched input).
    """
    ndim = weight.dim() - 2
    unbatched = input.dim() == ndim + 1
    x = (input[None] if unbatched else input).double()
    w = weight.double()
    n, channels = x.shape[0], x.shape[1]
    out_channels, group_channels, kernel = w.shape[0], w.shape[1], tuple(w.shape[2:])
    stride, dilation = _per_axis(stride, ndim), _per_axis(dilation, ndim)
    combine = COMBINES[combine or "mul"] if combine is None or isinstance(combine, str) else combine
    reduce = REDUCES[reduce or "sum"] if reduce is None or isinstance(reduce, str) else reduce

    # pad: F.pad lists (begin, end) from the last axis to the first
    padded_by = pads(padding, kernel, dilation)
    flat_pads = [p for begin_end in reversed(padded_by) for p in begin_end]
    if padding_mode == "zeros":
        x = F.pad(x, flat_pads, mode="constant", value=0.0)
    else:
        x = F.pad(x, flat_pads, mode=padding_mode)
    padded = x.shape[2:]
    out = [(m - d * (k - 1) - 1) // s + 1 for m, k, d, s in zip(padded, kernel, dilation, stride)]

    # the sample each (output position, tap) reads, as an index into the flattened padded input
    row_length = [math.prod(padded[axis + 1 :]) for axis in range(ndim)]
    taps = list(itertools.product(*map(range, kernel)))
    index = []
    for position in itertools.product(*map(range, out)):
        for tap in taps:
            at = [p * s + t * d for p, t, s, d in zip(position, tap, stride, dilation)]
            index.append(sum(a * r for a, r in zip(at, row_length)))
    positions = math.prod(out)
    samples = x.flatten(2)[:, :, torch.tensor(index, dtype=torch.long)]  # (N, C, positions * taps)
    samples = samples.view(n, groups, channels // groups, positions, len(taps))

    # combine each window with each output channel of its group, reduce over (tap, channel)
    results = []
    per_group = out_channels // groups
    for o in range(out_channels):
        g = o // per_group
        window = samples[:, g].permute(0, 2, 3, 1)  # (N, positions, taps, Cg)
        filter = w[o].flatten(1).t()  # (taps, Cg)
        values = combine(window, filter).reshape(n, positions, len(taps) * group_channels)  # tap-major
        results.append(reduce(values, -1))  # (N, positions)
    y = torch.stack(results, 1).view(n, out_channels, *out)
    if bias is not None:
        y = y + bias.double().view(-1, *(1,) * ndim)
    return y[0] if unbatched else y
