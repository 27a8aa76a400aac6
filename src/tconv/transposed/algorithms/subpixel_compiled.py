"""``subpixel_compiled``: ``subpixel``'s one convolution, channels-first, then a compiled
depth-to-space that writes the output at memory speed.

All phases of an overlapping strided transposed convolution as the output channels of one
stride-1 convolution (:func:`.subpixel.phase_conv`) is the kernel shape oneDNN runs fastest: on
the 2-core Xeon a k4 s2 problem's phase convolution took 0.7-0.85x the time of PyTorch's
transposed convolution (BENCHMARKS.md). What is left is to write each phase into its samples,
which channels-first interleaves ``s`` phases on the innermost axis: a compiled loop packs their
bits into integer words (:mod:`tconv.kernels.packing`). It holds the phases and the output, nothing more
(peak 17 MiB where PyTorch's transposed convolution took 24). Gradients: the convolution's
through autograd, the depth-to-space's by the inverse, compiled too (first order only). Every
axis's window length must be a multiple of its stride (whole words).
"""

from __future__ import annotations

import functools
import itertools
from typing import Optional

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ...core import compiling
from ...kernels.packing import SAME_SIZE, bits, interleaved, packing_reasons, unwords, word, words
from ...kernels.phases import residue_rows
from ..plan import ConvTransposePlan
from .subpixel import Subpixel, phase_conv


def _blocks(plan: ConvTransposePlan) -> tuple[list[int], list[int]]:
    """Per axis the stride and the number of output blocks (samples // stride)."""
    strides = [axis.stride for axis in plan.phases]
    return strides, [length // stride for length, stride in zip(plan.output_size, strides)]


def depth_to_space(y: torch.Tensor, *, plan: ConvTransposePlan, firsts: list[int]) -> torch.Tensor:
    """The window's words ``(N, g, Cout/g, t1, s1, …, td)`` (:func:`tconv.kernels.packing.words`) from the bits
    of :func:`phase_conv`'s ``y``: viewed as the dtype, the output."""
    strides, counts = _blocks(plan)
    phases = y.view(y.shape[0], plan.groups, *strides, plan.out_channels // plan.groups, *y.shape[2:])
    rows = residue_rows(plan.phases, firsts)

    def plane(residues: tuple[int, ...]) -> torch.Tensor:  # (N, g, Cout/g, *counts)
        phase, row = rows[residues]
        return phases[(slice(None), slice(None), *phase, slice(None), *(slice(r, r + t) for r, t in zip(row, counts)))]

    return interleaved(plane, strides, words).contiguous()


def space_to_depth(
    grad: torch.Tensor, *, plan: ConvTransposePlan, firsts: list[int], conv_size: tuple[int, ...]
) -> torch.Tensor:
    """The bits of the gradient of :func:`depth_to_space`'s ``y`` (zero on rows it does not read)
    from the words of the output's gradient."""
    strides, counts = _blocks(plan)
    planes = unwords(grad, strides[-1], SAME_SIZE[plan.dtype])  # (N, g, Cout/g, t1, s1, …, td, sd)
    by_phase = {}
    for residues, (phase, row) in residue_rows(plan.phases, firsts).items():
        part = planes[(slice(None),) * 3 + tuple(index for q in residues for index in (slice(None), q))]
        zeros = [
            e for r, t, size in reversed(list(zip(row, counts, conv_size))) for e in (r, size - r - t)
        ]  # F.pad's order
        by_phase[phase] = F.pad(part, zeros)
    ordered = [by_phase[phase] for phase in itertools.product(*(range(s) for s in strides))]
    return torch.stack(ordered, dim=2).reshape(grad.shape[0], -1, *conv_size)


def _words_shape(plan: ConvTransposePlan) -> list[int]:
    """The shape :func:`depth_to_space` returns."""
    strides, counts = _blocks(plan)
    return [
        plan.batch,
        plan.groups,
        -1,
        *(size for t, s in zip(counts[:-1], strides[:-1]) for size in (t, s)),
        counts[-1],
    ]


def compiled_depth_to_space(plan: ConvTransposePlan, firsts: list[int], y: torch.Tensor) -> torch.Tensor:
    function = functools.partial(depth_to_space, plan=plan, firsts=firsts)
    return compiling.run(plan, "depth to space", function, bits(y)).view(y.dtype).view(plan.output_shape)


class _DepthToSpace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, plan: ConvTransposePlan, firsts: list[int], y: torch.Tensor) -> torch.Tensor:
        ctx.plan, ctx.firsts, ctx.conv_size = plan, firsts, tuple(y.shape[2:])
        return compiled_depth_to_space(plan, firsts, y)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        plan = ctx.plan
        packed = bits(grad.contiguous().view(word(plan.dtype, plan.stride[-1]))).view(_words_shape(plan))
        function = functools.partial(space_to_depth, plan=plan, firsts=ctx.firsts, conv_size=ctx.conv_size)
        return None, None, compiling.run(plan, "space to depth", function, packed).view(grad.dtype)


class SubpixelCompiled(Subpixel):
    name = "subpixel_compiled"
    description = (
        "subpixel's convolution channels-first, then a compiled depth-to-space packing the innermost phases into words"
    )
    device_types = frozenset({"cpu"})  # inductor's GPU code was never measured here
    compiles = True

    def why_not(self, plan: ConvTransposePlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.channels_last:
            reasons.append("channels-last input: subpixel already writes its phases as contiguous runs of channels")
        for index, (length, stride) in enumerate(zip(plan.output_size, plan.stride)):
            if length % stride:
                reasons.append(
                    f"output length {length} on spatial axis {index} is not a multiple of its stride {stride} (whole "
                    "words only)"
                )
        return reasons + packing_reasons(plan.dtype, plan.stride[-1]) + compiling.why_not(plan, batch=plan.batch)

    def run_phases(
        self, plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        y, firsts = phase_conv(plan, input, weight, bias, channels_last=False)
        if plan.requires_grad:
            return _DepthToSpace.apply(plan, firsts, y.contiguous())
        return compiled_depth_to_space(plan, firsts, y.contiguous())
