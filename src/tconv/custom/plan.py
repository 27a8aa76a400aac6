"""Planning a custom convolution: every argument checked, the work cut into memory-bounded chunks.

A :class:`CustomPlan` is pure Python (shapes, the combine and reduce functions, the memory budget;
no tensors). Its :meth:`~CustomPlan.chunks` cut the output into blocks of samples, positions and
output channels, so that the expanded ``(position, out channel, in channel,
tap)`` tensor of one block, and its temporaries, fit in ``max_memory``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from numbers import Integral
from typing import Callable, Optional, Sequence, Union

from ..core.geometry import conv_output_length, conv_padding
from ..core.plan import TensorFacts, check_padding_mode, conv_channels, per_axis

#: Combine presets: ``combine(x, w)`` for an input sample ``x`` and a weight ``w``.
COMBINES = ("mul", "add", "sub", "abs_diff", "sq_diff")
#: Reduce presets over the (channel, tap) pairs of a window.
REDUCES = ("sum", "mean", "max", "min", "logsumexp")
#: Presets that keep the op linear in the input: an ordinary convolution computes them.
LINEAR = (frozenset({"mul", "add", "sub"}), frozenset({"sum", "mean"}))
#: The intermediates' default budget in bytes.
DEFAULT_MAX_MEMORY = 32 * 2**20
#: How many expanded-sized tensors a chunk holds at once (the combined values, their partial
#: derivatives and the reduction's weights in the backward).
LIVE_TENSORS = 3

Combine = Union[str, Callable]
Reduce = Union[str, Callable]


@dataclass(frozen=True)
class Chunk:
    """A block of the output: samples ``batch``, positions ``out`` (a range per spatial axis) and
    output channels ``channels`` within every group, each a ``(start, stop)`` range."""

    batch: tuple[int, int]
    out: tuple[tuple[int, int], ...]
    channels: tuple[int, int]


@dataclass(frozen=True)
class CustomPlan(TensorFacts):
    """A batched custom convolution.

    Attributes:
        batch, in_channels, out_channels, groups: as in ``nn.ConvNd``; the weight is
            ``(out_channels, in_channels // groups, *kernel_size)``.
        input_size, kernel_size, stride, dilation: per spatial axis.
        padding: ``(begin, end)`` per spatial axis; ``padding_mode`` says what fills it.
        combine: a preset name (:data:`COMBINES`) or a callable ``f(x, w)``.
        reduce: a preset name (:data:`REDUCES`) or a callable ``f(t, dim)``.
        max_memory: bytes the intermediates may take.

    and the :class:`~tconv.core.plan.TensorFacts`.
    """

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    padding_mode: str
    combine: Combine
    reduce: Reduce
    max_memory: int

    @property
    def ndim(self) -> int:
        return len(self.input_size)

    @property
    def padded_size(self) -> tuple[int, ...]:
        return tuple(n + b + e for n, (b, e) in zip(self.input_size, self.padding))

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple(
            conv_output_length(n, k, s, d, begin, end)
            for n, k, s, d, (begin, end) in zip(
                self.input_size, self.kernel_size, self.stride, self.dilation, self.padding
            )
        )

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.batch, self.out_channels, *self.output_size)

    def problem_key(self) -> str:
        return repr(self) if self.presets else ""  # a function's repr names its address

    @property
    def fan_in(self) -> int:
        """The (channel, tap) pairs one output reduces over."""
        return self.in_channels // self.groups * math.prod(self.kernel_size)

    @property
    def presets(self) -> bool:
        """Whether both functions are presets (hand-written derivatives)."""
        return isinstance(self.combine, str) and isinstance(self.reduce, str)

    @property
    def linear(self) -> bool:
        """Whether the presets make an ordinary (linear) convolution."""
        return self.presets and self.combine in LINEAR[0] and self.reduce in LINEAR[1]

    def read(self, chunk: Chunk) -> tuple[tuple[int, int], ...]:
        """Per spatial axis, the range of the padded input that ``chunk``'s windows read."""
        return tuple(
            (begin * s, (end - 1) * s + d * (k - 1) + 1)
            for (begin, end), k, s, d in zip(chunk.out, self.kernel_size, self.stride, self.dilation)
        )

    def chunks(self, itemsize: int, bounded: bool = True) -> tuple[Chunk, ...]:
        """The blocks to compute one at a time, one when not ``bounded``. Whole samples while
        several fit the budget; else one sample and blocks of the first spatial axis; and so on
        through the other axes and, last, the output channels.

        Raises:
            ValueError: ``max_memory`` cannot hold one output position of one channel per group.
        """
        sizes = (self.batch, *self.output_size, self.out_channels // self.groups)
        unit = self.groups * self.fan_in * itemsize * LIVE_TENSORS  # bytes per output position and channel per group
        steps = list(sizes)
        if bounded:
            for axis in range(len(sizes)):
                fitting = self.max_memory // (unit * math.prod(sizes[axis + 1 :]))
                steps[axis] = max(1, min(fitting, sizes[axis]))
                if fitting:
                    break
            else:
                raise ValueError(
                    f"max_memory: {self.max_memory} bytes cannot hold one output position of one channel per group; "
                    f"this problem needs at least {unit} bytes"
                )
        blocks = [
            tuple((start, min(start + step, size)) for start in range(0, size, step))
            for size, step in zip(sizes, steps)
        ]
        return tuple(Chunk(block[0], tuple(block[1:-1]), block[-1]) for block in itertools.product(*blocks))


def check_function(value: object, name: str, presets: Sequence[str], default: Optional[str] = None) -> Combine:
    """A preset name or a callable, as ``combine`` or ``reduce`` take it."""
    if value is None and default is not None:
        return default
    if isinstance(value, str):
        if value not in presets:
            raise ValueError(
                f"{name}: unknown preset {value!r}; legal values are {', '.join(map(repr, presets))} or a callable"
            )
        return value
    if not callable(value):
        raise TypeError(
            f"{name}: expected a preset name ({', '.join(map(repr, presets))}) or a callable; got {value!r}"
        )
    return value


def check_max_memory(max_memory: object) -> int:
    """``max_memory`` in bytes (None: :data:`DEFAULT_MAX_MEMORY`)."""
    if max_memory is None:
        return DEFAULT_MAX_MEMORY
    if not isinstance(max_memory, Integral) or isinstance(max_memory, bool):
        raise TypeError(f"max_memory: expected a number of bytes (an int) or None; got {max_memory!r}")
    if max_memory < 1:
        raise ValueError(f"max_memory: must be a positive number of bytes; got {max_memory}")
    return int(max_memory)


def plan_custom_conv(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: object = 1,
    padding: object = 0,
    dilation: object = 1,
    groups: object = 1,
    combine: object = None,
    reduce: object = "sum",
    padding_mode: object = "zeros",
    max_memory: object = None,
    **tensors: object,
) -> CustomPlan:
    """Check a ``custom_convNd`` call (batched shapes) and plan it; see :func:`tconv.custom_conv2d`."""
    ndim, (in_channels, out_channels, groups) = conv_channels(input_shape, weight_shape, groups, tensors)
    stride = per_axis(stride, ndim, "stride", minimum=1)
    dilation = per_axis(dilation, ndim, "dilation", minimum=1)
    kernel = tuple(int(k) for k in weight_shape[2:])
    pads = conv_padding(padding, ndim, kernel, dilation, strided=any(s > 1 for s in stride))
    padding_mode = check_padding_mode(padding_mode)
    sizes = tuple(int(n) for n in input_shape[2:])
    for axis, (n, (begin, end), k, d) in enumerate(zip(sizes, pads, kernel, dilation)):
        if padding_mode == "reflect" and max(begin, end) >= n:
            raise ValueError(
                f"padding: reflect padding of {max(begin, end)} on spatial axis {axis} must be smaller than the "
                f"input's size there ({n})"
            )
        if padding_mode == "circular" and max(begin, end) > n:
            raise ValueError(
                f"padding: circular padding of {max(begin, end)} on spatial axis {axis} must not exceed the input's "
                f"size there ({n})"
            )
        if conv_output_length(n, k, 1, d, begin, end) < 1:
            raise ValueError(
                f"weight: the kernel's extent {d * (k - 1) + 1} on spatial axis {axis} is larger than the padded "
                f"input there ({n + begin + end})"
            )
    return CustomPlan(
        batch=int(input_shape[0]),
        in_channels=in_channels,
        out_channels=out_channels,
        groups=groups,
        input_size=sizes,
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        padding=pads,
        padding_mode=padding_mode,
        combine=check_function(combine, "combine", COMBINES, default="mul"),
        reduce=check_function(reduce, "reduce", REDUCES, default="sum"),
        max_memory=check_max_memory(max_memory),
        **{key: value for key, value in tensors.items() if key != "bias_shape"},
    )
