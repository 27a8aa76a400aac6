"""The patch kernel: windows of the padded input, combined with the weight and reduced, chunk by chunk.

Layouts (``g`` groups, ``Og``/``Cg`` output/input channels per group, ``K`` the kernel's taps):

* the padded input ``xp`` is channels-last, ``(N, *padded, C)``, contiguous;
* its windows are a view, ``(N, *out, g, 1, *K, Cg)`` (:func:`windows`, no copy);
* the weight is ``(g, Og, *K, Cg)`` (:func:`canonical_weight`);
* combining gives ``(N, *out, g, Og, *K, Cg)``, flattened to ``(..., K * Cg)``: a window's
  (tap, channel) pairs, tap-major, are the last dimension, which ``reduce`` removes;
* the output is ``(N, *out, g, Og)``.

:class:`CustomConvFunction` runs :func:`forward` on each :class:`~.plan.Chunk` and, in the
backward, recomputes each chunk for :func:`backward` (hand-written for presets, ``torch.func.vjp``
of the chunk for callables) and folds the windows' gradients back onto the padded input: memory
stays within the plan's budget both ways. :class:`PatchAlgorithm` is what the ``chunked`` and
``compiled`` algorithms share; they differ only in how a chunk's kernel is run.
"""

from __future__ import annotations

import itertools
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from ...core.algorithm import Algorithm
from ..plan import Chunk, CustomPlan
from ..presets import COMBINE, REDUCE


def padded(input: Tensor, plan: CustomPlan) -> Tensor:
    """``input`` padded in the plan's mode, channels-last and contiguous: ``(N, *padded, C)``."""
    pads = [p for begin_end in reversed(plan.padding) for p in begin_end]
    if plan.padding_mode == "zeros":
        return F.pad(input.movedim(1, -1), [0, 0, *pads]).contiguous()
    return F.pad(input, pads, mode=plan.padding_mode).movedim(1, -1).contiguous()


def canonical_weight(weight: Tensor, plan: CustomPlan) -> Tensor:
    """``(Cout, Cg, *K)`` as ``(g, Og, *K, Cg)``."""
    return weight.unflatten(0, (plan.groups, -1)).movedim(2, -1).contiguous()


def windows(xp: Tensor, plan: CustomPlan) -> Tensor:
    """The windows of a (chunk of the) padded input as a view ``(n, *out, g, 1, *K, Cg)``."""
    v = xp
    for axis, (k, s, d) in enumerate(zip(plan.kernel_size, plan.stride, plan.dilation), start=1):
        v = v.unfold(axis, d * (k - 1) + 1, s)  # appends the window's dimension
    if any(d > 1 for d in plan.dilation):
        v = v[(..., *(slice(None, None, d) for d in plan.dilation))]
    v = v.movedim(plan.ndim + 1, -1)  # (n, *out, *K, C)
    return v.unflatten(-1, (plan.groups, -1)).movedim(-2, plan.ndim + 1).unsqueeze(plan.ndim + 2)


def forward(plan: CustomPlan, v: Tensor, w: Tensor) -> Tensor:
    """``reduce(combine(windows, weight))`` of one chunk: ``(n, *out, g, Og)``."""
    combine = COMBINE[plan.combine].value if isinstance(plan.combine, str) else plan.combine
    t = combine(v, w)
    expected = torch.broadcast_shapes(v.shape, w.shape)
    if not isinstance(t, Tensor) or t.shape != expected:
        got = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(
            f"combine: must return a tensor of the broadcast shape of its arguments {tuple(expected)}; got {got}"
        )
    window = tuple(range(-plan.ndim - 1, 0))  # the (tap, channel) dimensions
    if isinstance(plan.reduce, str):  # over the dimensions themselves: compiled loops index them directly
        return REDUCE[plan.reduce].value(t, window)
    t = t.flatten(window[0])
    out = plan.reduce(t, -1)
    if not isinstance(out, Tensor) or out.shape != t.shape[:-1]:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"reduce: must return a tensor without the reduced dimension {tuple(t.shape[:-1])}; got {got}")
    return out


def backward(plan: CustomPlan, v: Tensor, w: Tensor, out: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """The gradients of one chunk's windows ``(n, *out, g, 1, *K, Cg)`` and weight ``(g, Og, *K, Cg)``."""
    if not plan.presets:
        _, vjp = torch.func.vjp(lambda v, w: forward(plan, v, w), v, w)
        return vjp(g.to(out.dtype))
    combine, reduce = COMBINE[plan.combine], REDUCE[plan.reduce]
    return combine.grad(v, w, reduce.spread(combine.value(v, w), out, g, plan.ndim + 1))  # the values die early


def fold(gxp: Tensor, gv: Tensor, plan: CustomPlan) -> None:
    """Add the windows' gradient ``gv`` ``(n, *out, g, 1, *K, Cg)`` onto the padded input's ``gxp``."""
    out = gv.shape[1 : plan.ndim + 1]
    gv = gv.squeeze(plan.ndim + 2)  # (n, *out, g, *K, Cg)
    for taps in itertools.product(*map(range, plan.kernel_size)):
        rows = (slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(taps, plan.dilation, plan.stride, out))
        target = gxp[(slice(None), *rows)].unflatten(-1, (plan.groups, -1))
        target += gv[(slice(None),) * (plan.ndim + 2) + taps]


def _slices(plan: CustomPlan, chunk: Chunk) -> tuple[tuple, tuple]:
    """Where ``chunk`` reads the padded input, and where it writes the output ``(N, *out, g, Og)``."""
    batch = slice(*chunk.batch)
    read = (batch, *(slice(*span) for span in plan.read(chunk)))
    write = (batch, *(slice(*span) for span in chunk.out), slice(None), slice(*chunk.channels))
    return read, write


def chunk_forward(plan: CustomPlan, xp: Tensor, w: Tensor) -> Tensor:
    """:func:`forward` of the windows of a chunk of the padded input."""
    return forward(plan, windows(xp, plan), w)


def chunk_backward(plan: CustomPlan, xp: Tensor, w: Tensor, out: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`backward` of the windows of a chunk of the padded input."""
    return backward(plan, windows(xp, plan), w, out, g)


class Kernels:
    """How a chunk is computed: ``forward(xp_chunk, w_chunk)`` and
    ``backward(xp_chunk, w_chunk, out_chunk, g_chunk) -> (gv, gw)``; eager here."""

    def __init__(self, plan: CustomPlan) -> None:
        self.plan = plan

    def forward(self, xp: Tensor, w: Tensor) -> Tensor:
        return chunk_forward(self.plan, xp, w)

    def backward(self, xp: Tensor, w: Tensor, out: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
        return chunk_backward(self.plan, xp, w, out, g)

    def chunks(self, itemsize: int) -> tuple[Chunk, ...]:
        return self.plan.chunks(itemsize)


class CustomConvFunction(torch.autograd.Function):
    """``(xp, w) -> out`` chunk by chunk, recomputing each chunk in the backward."""

    @staticmethod
    def forward(ctx, xp: Tensor, w: Tensor, kernels: Kernels) -> Tensor:
        plan = kernels.plan
        chunks = kernels.chunks(xp.element_size())
        if len(chunks) == 1:
            out = kernels.forward(xp, w)
        else:
            out = xp.new_empty((xp.shape[0], *plan.output_size, plan.groups, w.shape[1]))
            for chunk in chunks:
                read, write = _slices(plan, chunk)
                out[write] = kernels.forward(xp[read], w[:, slice(*chunk.channels)].contiguous())
        ctx.save_for_backward(xp, w, out)
        ctx.kernels = kernels
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, g: Tensor) -> tuple[Optional[Tensor], Optional[Tensor], None]:
        xp, w, out = ctx.saved_tensors
        kernels = ctx.kernels
        plan = kernels.plan
        gxp = torch.zeros_like(xp) if ctx.needs_input_grad[0] else None
        gw = torch.zeros_like(w) if ctx.needs_input_grad[1] else None
        for chunk in kernels.chunks(xp.element_size()):
            read, write = _slices(plan, chunk)
            gv, gw_chunk = kernels.backward(
                xp[read], w[:, slice(*chunk.channels)].contiguous(), out[write], g[write].contiguous()
            )
            if gxp is not None:
                fold(gxp[read], gv, plan)
            if gw is not None:
                gw[:, slice(*chunk.channels)] += gw_chunk
        return gxp, gw, None


class PatchAlgorithm(Algorithm[CustomPlan]):
    """Pad, take windows, combine and reduce chunk by chunk (:class:`CustomConvFunction`); the
    subclass says how a chunk runs (:meth:`kernels`)."""

    def kernels(self, plan: CustomPlan) -> Kernels:
        raise NotImplementedError

    def run(self, plan: CustomPlan, input: Tensor, weight: Tensor, bias: Optional[Tensor]) -> Tensor:
        out = CustomConvFunction.apply(padded(input, plan), canonical_weight(weight, plan), self.kernels(plan))
        y = out.flatten(-2).movedim(-1, 1)  # (N, Cout, *out), stored channels-last
        if bias is not None:
            y = y + bias.view(-1, *(1,) * plan.ndim)
        return y.contiguous(memory_format=plan.memory_format)
