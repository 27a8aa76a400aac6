"""``factored``: ``composed`` with the innermost axis factored out of its convolution.

Along each axis the composed kernel of upsampling is the conv kernel spread by the upsampling
taps, so every phase tap of the innermost axis is a combination of the conv kernel's own taps
along it. ``composed`` mixes the channels once per phase tap (``scale × taps`` per sample of
that axis); here one convolution mixes them once per *conv kernel* tap (output channels
``(group, outer phases…, kernel tap, Cout/g)``, kernel width 1 on the innermost axis, the other
axes split into phases as ``subpixel`` does), and a second pass sums those channel blocks,
shifted, into the innermost axis's phases, adds the bias and writes the output. Nearest ×2 with
a 3-wide kernel: 3 channel mixes per input sample instead of 4, on no extra column.

The convolution runs as one call per block of the first channel-block axis (the first outer
axis's phases; the kernel taps in 1-d): PyTorch's channels-first CPU convolution holds its result
twice, so the peak is all blocks plus one rather than twice all. The second pass is compiled (CPU
inference), writing the innermost phases as integer words (:mod:`tconv.kernels.packing`);
otherwise it runs eagerly on floats and autograd differentiates it. The borders are
``composed``'s strips.
"""

from __future__ import annotations

import functools
import math
from typing import Optional

import torch
import torch.nn.functional as F

from ...core import compiling
from ...core.geometry import Polyphase
from ...kernels.packing import interleaved, word, words
from ...kernels.phases import conv_axis, convolve, phase_taps, residue_rows, tap_product
from ...transposed import DISPATCHER as TRANSPOSED
from ..plan import FusedAxis, FusedPlan
from .composed import Composed, axis_spread, computing

_CPU = torch.device("cpu")


class Factored(Composed):
    name = "factored"
    description = (
        "composed with the innermost axis's kernel taps as output channels, summed into its phases after the "
        "convolution"
    )
    compiles = True

    def why_not(self, plan: FusedPlan) -> list[str]:
        reasons = super().why_not(plan)
        if plan.op != "upsample_conv":
            return reasons + ["it factors the transposed convolution of upsampling; pooling has none"]
        if plan.core is not None:
            for index, (length, stride) in enumerate(zip(plan.core.output_size, plan.core.stride)):
                if length % stride:
                    reasons.append(
                        f"the composed convolution's {length} outputs on spatial axis {index} are no whole number of "
                        f"scale-{stride} blocks"
                    )
        return reasons

    def transposed(
        self, plan: FusedPlan, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]
    ) -> torch.Tensor:
        core = plan.core
        taps, _ = _factoring(plan)
        w = computing(weight)
        kernel = [axis.taps for axis in core.phases[:-1]] + [1]
        conv_weight = tap_product(w.unflatten(0, (plan.groups, -1)), taps.to(w), kernel).to(weight.dtype)
        geometry = [conv_axis(axis) for axis in core.phases[:-1]] + [(0, 0, 0)]
        weights = conv_weight.unflatten(0, (plan.groups, _channel_blocks(plan)[0], -1))
        parts = [
            convolve(x, weights[:, block].flatten(0, 1), None, geometry, core.groups, channels_last=False).contiguous()
            for block in range(weights.shape[1])
        ]
        # per axis the convolution's index of row ``first_row``; the innermost one counts input columns
        firsts = [pad - max(axis.pad_begin, 0) for axis, (_, _, pad) in zip(core.phases[:-1], geometry)]
        firsts.append(-core.phases[-1].pad_begin)
        operands = parts if bias is None else [*parts, bias]
        if _compiles(plan, x):
            function = functools.partial(phase_sums, plan=plan, firsts=firsts, join=words)
            return compiling.run(plan, "factored sums", function, *operands).view(x.dtype).view(core.output_shape)
        return phase_sums(*operands, plan=plan, firsts=firsts, join=_stack).reshape(core.output_shape)


def channel_mixes(plan: FusedPlan) -> float:
    """How often the convolution mixes the channels per innermost input sample, relative to
    ``composed``'s (``kernel / (scale * phase taps)`` of the innermost axis)."""
    last = plan.core.phases[-1]
    return plan.axes[-1].kernel / (last.stride * last.taps)


def preferred(plan: FusedPlan) -> bool:
    """Whether ``factored`` runs before ``composed`` (BENCHMARKS.md): CPU inference on 1-d or 2-d
    channels-first input, compiling on, a word for the innermost scale, at most 0.8 of composed's
    channel mixes and 16 or more input channels per group; and either composed's core would run
    ``native`` (factored measured 1.13-1.67x there) or its ``subpixel_compiled`` convolution is
    compute-bound: 64 or more channels per group in and out and 2^27 or more multiplications
    (1.08-1.27x; 0.87-0.97x with fewer channels or less work; 0.47x depthwise, 0.94x at 0.875
    channel mixes). In 3-d it ran 1.69x composed but held more than the plain composition
    (inductor keeps the inner interleave of the three axes)."""
    if not (
        plan.op == "upsample_conv"
        and plan.core is not None
        and plan.device_type == "cpu"
        and not plan.requires_grad
        and not plan.channels_last
        and compiling.compile_enabled()
        and word(plan.dtype, plan.core.stride[-1]) is not None
        and plan.ndim <= 2
        and plan.in_channels // plan.groups >= 16
        and channel_mixes(plan) <= 0.8
    ):
        return False
    if TRANSPOSED.select(plan.core).name != "subpixel_compiled":
        return True
    core = plan.core
    in_per_group, out_per_group = plan.in_channels // plan.groups, plan.out_channels // plan.groups
    per_output = in_per_group * math.prod(axis.taps for axis in core.phases)
    multiplications = core.batch * core.out_channels * math.prod(core.output_size) * per_output
    return min(in_per_group, out_per_group) >= 64 and multiplications >= 2**27


def _channel_blocks(plan: FusedPlan) -> list[int]:
    """The convolution's output channels per group are ``(*these, Cout/g)``: the outer axes'
    phases, then the innermost kernel taps."""
    return [axis.stride for axis in plan.core.phases[:-1]] + [plan.axes[-1].kernel]


def _compiles(plan: FusedPlan, x: torch.Tensor) -> bool:
    """Whether the sums run compiled: CPU inference, a word for the innermost scale, compiling on."""
    return (
        not plan.requires_grad
        and x.device.type == "cpu"
        and word(plan.dtype, plan.core.stride[-1]) is not None
        and not compiling.why_not(plan, batch=plan.batch)
    )


def _stack(planes: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(planes, dim=-1)


@functools.lru_cache(maxsize=256)
def _factoring(plan: FusedPlan) -> tuple[torch.Tensor, tuple[tuple[tuple[float, ...], ...], ...]]:
    """The convolution's taps ``(P, prod kernel, prod taps)`` (float64; ``P``: the outer axes'
    phases, then the innermost kernel tap), and the sums' coefficients ``[phase][kernel tap][phase
    tap]`` of the innermost axis."""
    core = plan.core
    per_axis = [
        _axis_phases(axis, phases, kernel) for axis, phases, kernel in zip(plan.axes, core.phases, core.kernel_size)
    ]
    innermost = torch.eye(plan.axes[-1].kernel, dtype=torch.float64).unsqueeze(-1)  # each kernel tap its own block
    taps = functools.reduce(_kron, [*per_axis[:-1], innermost])
    return taps, tuple(tuple(tuple(row) for row in phase) for phase in per_axis[-1].tolist())


def _axis_phases(axis: FusedAxis, phases: Polyphase, kernel: int) -> torch.Tensor:
    """``(scale, kernel, taps)``: each phase's taps as combinations of the conv kernel's taps."""
    return axis_spread(axis, True) @ phase_taps([phases], (kernel,), torch.float64, _CPU)


def _kron(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The Kronecker product of two ``(P, K, T)`` tap tensors, axis by axis."""
    product = torch.einsum("pkt,qlu->pqkltu", a, b)
    return product.reshape(a.shape[0] * b.shape[0], a.shape[1] * b.shape[1], a.shape[2] * b.shape[2])


def phase_sums(*tensors: torch.Tensor, plan: FusedPlan, firsts: list[int], join) -> torch.Tensor:
    """The core's output from the convolution's parts (then the bias, if any): per output residue
    the innermost phase's sum of shifted kernel-tap blocks plus the bias, arranged by
    :func:`tconv.kernels.packing.interleaved` (``join``: :func:`tconv.kernels.packing.words`, or a float stack)."""
    core = plan.core
    strides = [axis.stride for axis in core.phases]
    counts = [length // stride for length, stride in zip(core.output_size, strides)]
    groups, per_group = core.groups, core.out_channels // core.groups
    first, *rest = _channel_blocks(plan)
    parts = [part.view(part.shape[0], groups, *rest, per_group, *part.shape[2:]) for part in tensors[:first]]
    if parts[0].dtype in (torch.float16, torch.bfloat16):
        parts = [part.float() for part in parts]
    bias = tensors[first:]
    rows = residue_rows(core.phases, firsts)
    _, sums = _factoring(plan)

    def plane(residues: tuple[int, ...]) -> torch.Tensor:  # (N, g, Cout/g, *counts)
        phase, row = rows[residues]
        outer = tuple(slice(r, r + t) for r, t in zip(row[:-1], counts[:-1]))
        total = parts[0].new_zeros(parts[0].shape[0], groups, per_group, *counts)
        for tap, coefficients in enumerate(sums[phase[-1]]):
            part, *within = (*phase[:-1], tap)  # which part, and the block within it
            block = parts[part][(slice(None), slice(None), *within, slice(None), *outer, slice(None))]
            for shift, coefficient in enumerate(coefficients):
                if coefficient:
                    term = _columns(block, row[-1] + shift, counts[-1])
                    total = total + (term if coefficient == 1 else term * coefficient)
        if bias:
            total = total + bias[0].view(1, groups, per_group, *(1,) * len(counts))
        return total.to(tensors[0].dtype)

    return interleaved(plane, strides, join).contiguous()


def _columns(block: torch.Tensor, start: int, count: int) -> torch.Tensor:
    """Columns ``[start, start + count)`` of ``block``'s last axis, zero outside it."""
    width = block.shape[-1]
    before, after = max(0, -start), max(0, start + count - width)
    if before or after:
        block = F.pad(block, (before, after))
    return block[..., start + before : start + before + count]
