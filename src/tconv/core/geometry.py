"""The window model: every framework's transposed-convolution padding as one rule per axis.

Per spatial axis, with input length ``i``, kernel ``k``, stride ``s``, dilation ``d`` and
output padding ``op``, the *full* output of a transposed convolution has length
``L = (i - 1) * s + (k - 1) * d + 1``. Every framework returns a window ``[begin, begin + length)``
of that full output after it has been extended by zeros at its end (by ``op`` and, further,
wherever the window runs past it). So an axis is described completely by three numbers:
``AxisWindow(full, begin, length)``.

A padding *rule* turns the call's arguments into a window:

* :class:`Pads` ``(begin, end)`` crops the ``op``-extended full output explicitly. PyTorch's
  ``padding=p`` is ``Pads(p, p)``, ``"valid"`` is ``Pads(0, 0)``, ONNX ``pads`` and TensorFlow's
  explicit padding are per-side ``Pads``.
* :class:`Same` keeps ``input * stride`` samples (or the requested size) and crops the rest,
  the odd sample at the end (``SAME``/``SAME_UPPER``) or at the start (``SAME_LOWER``).

The forward convolutions of the fused and custom ops are measured here too
(:func:`conv_padding`, :func:`conv_output_length`): every shape tconv computes, it computes in
this module.

This module is pure Python: no tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Sequence, Union

from .plan import per_axis

PADDING_STRINGS = ("valid", "same", "same_upper", "same_lower")


@dataclass(frozen=True)
class Pads:
    """Crop ``begin`` samples at the start and ``end`` at the end of the extended full output."""

    begin: int
    end: int


@dataclass(frozen=True)
class Same:
    """TF/ONNX ``SAME``: ``output = input * stride``; ``lower`` puts the odd crop at the start."""

    lower: bool = False


PaddingRule = Union[Pads, Same]


@dataclass(frozen=True)
class AxisWindow:
    """The window ``[begin, begin + length)`` of a full output of length ``full``."""

    full: int
    begin: int
    length: int

    @property
    def end(self) -> int:
        return self.begin + self.length

    @property
    def crop_end(self) -> int:
        """Full-output samples after the window (0 when the window runs past the end)."""
        return max(0, self.full - self.end)

    @property
    def zeros_after(self) -> int:
        """Zero samples the window takes beyond the end of the full output."""
        return max(0, self.end - self.full)


def effective_kernel(kernel: int, dilation: int) -> int:
    return (kernel - 1) * dilation + 1


def full_length(size: int, kernel: int, stride: int, dilation: int) -> int:
    return (size - 1) * stride + effective_kernel(kernel, dilation)


def conv_output_length(size: int, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int) -> int:
    """The output length of a forward convolution (``nn.ConvNd``'s formula) of ``size`` samples
    padded by ``pad_begin`` and ``pad_end``; below 1 when the kernel does not fit."""
    return (size + pad_begin + pad_end - effective_kernel(kernel, dilation)) // stride + 1


def conv_padding(padding, ndim, kernel, dilation, *, strided) -> tuple[tuple[int, int], ...]:
    """A forward convolution's ``padding`` as ``(begin, end)`` per axis, as ``nn.ConvNd`` pads
    (``"same"``: the odd sample at the end)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding != "same":
            raise ValueError(
                f"padding: unknown padding {padding!r}; legal values are 'same', 'valid', an int or one int per axis"
            )
        if strided:
            raise ValueError(
                "padding: 'same' is not supported for strided convolutions (as in PyTorch); give the padding as ints"
            )
        totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return tuple((total // 2, total - total // 2) for total in totals)
    return tuple((p, p) for p in per_axis(padding, ndim, "padding", minimum=0))


def parse_padding(padding: object, ndim: int) -> tuple[PaddingRule, ...]:
    """One rule per axis from any accepted ``padding`` value.

    Accepted: an int, a string in :data:`PADDING_STRINGS` (case-insensitive), or a sequence with
    one entry per axis, each an int (both sides) or a ``(begin, end)`` pair.
    """
    if isinstance(padding, str):
        name = padding.lower()
        if name not in PADDING_STRINGS:
            raise ValueError(
                f"padding: unknown padding {padding!r}; legal strings are {', '.join(map(repr, PADDING_STRINGS))}, "
                "or an int, or one int or (begin, end) pair per axis"
            )
        if name == "valid":
            return (Pads(0, 0),) * ndim
        return (Same(lower=name == "same_lower"),) * ndim
    if _is_int(padding):
        return (_pads(padding, padding),) * ndim
    if not isinstance(padding, Sequence) or len(padding) != ndim:
        raise ValueError(
            f"padding: expected an int, a padding string, or {ndim} entries (one per spatial axis, "
            f"each an int or a (begin, end) pair); got {padding!r}"
        )
    rules = []
    for entry in padding:
        if _is_int(entry):
            rules.append(_pads(entry, entry))
        elif (
            isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) == 2 and all(map(_is_int, entry))
        ):
            rules.append(_pads(*entry))
        else:
            raise ValueError(
                f"padding: each per-axis entry must be an int or a (begin, end) pair of ints; got {entry!r}"
            )
    return tuple(rules)


def _pads(begin: int, end: int) -> Pads:
    if begin < 0 or end < 0:
        raise ValueError(f"padding: must be non-negative; got ({begin}, {end})")
    return Pads(int(begin), int(end))


def _is_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def legal_output_sizes(
    size: int, kernel: int, stride: int, dilation: int, rule: PaddingRule, output_padding: int = 0
) -> range:
    """The output lengths an explicit ``output_size`` may ask for on one axis.

    Under SAME any length the (``op``-extended) full output can be cropped to, as ONNX defines
    ``output_shape`` (TF allows the part ``(i - 1) * s + 1 … i * s`` of it), and up to ``i * s``
    where that is longer. Otherwise the lengths ``output_padding`` can reach.
    """
    if isinstance(rule, Same):
        return range(1, max(full_length(size, kernel, stride, dilation) + output_padding, size * stride) + 1)
    shortest = full_length(size, kernel, stride, dilation) - rule.begin - rule.end
    return range(max(shortest, 1), shortest + max(stride, dilation))


def axis_window(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    output_padding: int,
    rule: PaddingRule,
    output_size: int | None = None,
    *,
    axis: int = 0,
) -> AxisWindow:
    """The window of one axis; raises ``ValueError`` for an output size the rule cannot give."""
    full = full_length(size, kernel, stride, dilation)
    if output_size is not None:
        legal = legal_output_sizes(size, kernel, stride, dilation, rule, output_padding)
        if output_size not in legal:
            raise ValueError(
                f"output_size: {output_size} is illegal on spatial axis {axis} for {_describe(rule)} "
                f"(input {size}, kernel {kernel}, stride {stride}, dilation {dilation}); "
                + (
                    f"legal sizes are {legal.start} … {legal.stop - 1}"
                    if len(legal)
                    else "no size is legal: the padding crops everything"
                )
            )
    if isinstance(rule, Same):
        length = size * stride if output_size is None else output_size
        total = max(0, full + output_padding - length)
        begin = total - total // 2 if rule.lower else total // 2
        return AxisWindow(full, begin, length)
    if output_size is not None:
        if output_padding and output_size != full + output_padding - rule.begin - rule.end:
            raise ValueError(
                f"output_size: {output_size} on spatial axis {axis} disagrees with output_padding={output_padding}; "
                f"give one of them, or sizes that agree ({full + output_padding - rule.begin - rule.end})"
            )
        return AxisWindow(full, rule.begin, output_size)
    length = full + output_padding - rule.begin - rule.end
    if length < 1:
        raise ValueError(
            f"padding: {_describe(rule)} crops the whole output on spatial axis {axis} "
            f"(full length {full}, output_padding {output_padding}); the padding must leave at least one sample"
        )
    return AxisWindow(full, rule.begin, length)


def _describe(rule: PaddingRule) -> str:
    if isinstance(rule, Same):
        return "padding 'same_lower'" if rule.lower else "padding 'same'"
    return f"padding ({rule.begin}, {rule.end})"


@dataclass(frozen=True)
class Polyphase:
    """One axis of a transposed convolution as ``stride`` stride-1 correlations (its phases).

    Full-output sample ``j = q * stride + r`` belongs to phase ``r`` and row ``q``; phase ``r`` is
    the correlation of the input with the kernel ``tap_of[r]`` (``taps`` entries, each a kernel
    tap index or -1 for a zero): ``phase_r[q] = sum_v x[q + v - (taps - 1)] * w[tap_of[r][v]]``.
    Only rows ``first_row … first_row + rows - 1``, those the window touches, are computed: that
    is a stride-1 correlation of the input padded by ``pad_begin`` and ``pad_end`` (negative:
    cropped).
    """

    stride: int
    taps: int
    tap_of: tuple[tuple[int, ...], ...]
    first_row: int
    rows: int
    pad_begin: int
    pad_end: int
    window_begin: int
    window_length: int

    def phase_samples(self, phase: int) -> tuple[int, int, int]:
        """``(first output sample, first row, count)`` of a phase within the window; the phase's
        samples are every ``stride``-th output sample from the first."""
        first = (phase - self.window_begin) % self.stride
        count = max(0, -(-(self.window_length - first) // self.stride))
        return first, (self.window_begin + first) // self.stride - self.first_row, count


def polyphase(size: int, kernel: int, stride: int, dilation: int, window: AxisWindow) -> Polyphase:
    """Split one axis into its phases, computing only the rows the window needs."""
    reach = ((kernel - 1) * dilation) // stride  # the largest row offset of any tap
    tap_of = []
    for phase in range(stride):
        row = [-1] * (reach + 1)
        for tap in range(kernel):
            if (tap * dilation - phase) % stride == 0:
                row[reach - (tap * dilation - phase) // stride] = tap
        tap_of.append(tuple(row))
    first_row = window.begin // stride
    end_row = -(-window.end // stride)
    return Polyphase(
        stride=stride,
        taps=reach + 1,
        tap_of=tuple(tap_of),
        first_row=first_row,
        rows=end_row - first_row,
        pad_begin=reach - first_row,
        pad_end=end_row - size,
        window_begin=window.begin,
        window_length=window.length,
    )
