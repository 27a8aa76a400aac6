"""The public transposed convolutions: check the tensors, plan, pick an algorithm, run it."""

from __future__ import annotations

from typing import Callable, Optional, Sequence, TypeVar, Union

import torch

from . import algorithms
from .algorithms.autotune import autotune_enabled
from .plan import CHANNELS_LAST, ConvTransposePlan, plan_conv_transpose

Plan = TypeVar("Plan")


_TRANSPOSED_WEIGHT = "(in_channels, out_channels // groups, *kernel_size)"


def check_tensors(
    input: object, weight: object, bias: object, ndim: int, *, weight_layout: str = _TRANSPOSED_WEIGHT, complex: bool = True
) -> bool:
    """Type, dtype and device checks; returns whether ``input`` is unbatched."""
    for name, value in (("input", input), ("weight", weight)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor; got {type(value).__name__}")
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise TypeError(f"bias: expected a torch.Tensor or None; got {type(bias).__name__}")
    if not (input.dtype.is_floating_point or (complex and input.dtype.is_complex)):
        kinds = "a floating-point or complex" if complex else "a floating-point"
        raise TypeError(f"input: expected {kinds} dtype; got {input.dtype}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.dtype != input.dtype:
            raise TypeError(f"{name}: dtype {value.dtype} does not match the input's {input.dtype}; convert one of them")
        if value is not None and value.device != input.device:
            raise ValueError(f"{name}: is on {value.device} but the input is on {input.device}")
    if weight.dim() != ndim + 2:
        raise ValueError(
            f"weight: expected {ndim + 2} dimensions {weight_layout}; got shape {tuple(weight.shape)}"
        )
    if input.dim() not in (ndim + 1, ndim + 2):
        raise ValueError(
            f"input: expected {ndim + 2} dimensions (N, C, *spatial) or {ndim + 1} (C, *spatial, unbatched) "
            f"for {ndim} spatial axes; got shape {tuple(input.shape)}"
        )
    return input.dim() == ndim + 1


def autocast_operands(input: object, weight: object, bias: object) -> tuple:
    """Under ``torch.autocast``, the floating-point operands in its dtype, as PyTorch's
    convolutions take them (so a tconv op after an autocast op gets matching dtypes)."""
    if not isinstance(input, torch.Tensor) or not torch.is_autocast_enabled(input.device.type):
        return input, weight, bias
    dtype = torch.get_autocast_dtype(input.device.type)
    cast = lambda t: t.to(dtype) if isinstance(t, torch.Tensor) and t.is_floating_point() else t  # noqa: E731
    return cast(input), cast(weight), cast(bias)


def is_channels_last(input: torch.Tensor) -> bool:
    layout = CHANNELS_LAST.get(input.dim() - 2)
    return layout is not None and input.shape[1] > 1 and input.is_contiguous(memory_format=layout) and not input.is_contiguous()


def static_shape(tensor: torch.Tensor) -> tuple[int, ...]:
    """``tensor``'s shape as ints: under ``torch.compile`` this specialises the graph to the shape
    (plans are made per shape; symbolic sizes would reach the algorithms' arithmetic)."""
    return tuple(map(int, tensor.shape))


def _typed(value: object) -> object:
    """A hashable, type-strict cache key for an argument (``2`` and ``2.0``, ``1`` and ``True``
    differ): sequences become tuples, every scalar carries its type."""
    kind = value.__class__
    if kind is tuple or kind is list or kind is torch.Size:
        return tuple(map(_typed, value))
    return (kind, value)


def _arguments_key(values: tuple) -> tuple:
    """:func:`_typed` of every argument; scalars alone (the usual call) take a faster form."""
    kinds = tuple(map(type, values))
    if tuple in kinds or list in kinds or torch.Size in kinds:
        return tuple(map(_typed, values))
    return (kinds, values)


_plans: dict[tuple, object] = {}


def tensor_facts(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> dict[str, object]:
    """A batched call's tensors as the planners take them (:class:`~tconv.plan.TensorFacts` and the
    bias shape)."""
    return dict(
        has_bias=bias is not None,
        bias_shape=None if bias is None else tuple(bias.shape),
        dtype=input.dtype,
        device_type=input.device.type,
        channels_last=is_channels_last(input),
        requires_grad=torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)),
    )


def cached_plan(planner: Callable[..., Plan], shapes: tuple, **arguments: object) -> Plan:
    """``planner(*shapes[-2:], **arguments)``, cached per distinct call (``shapes`` leads the key)."""
    key = (planner, shapes, _arguments_key(tuple(arguments.values())))
    try:
        return _plans[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable argument: the planner says what is wrong with it
        return planner(*shapes[-2:], **arguments)
    plan = planner(*shapes[-2:], **arguments)
    if len(_plans) >= 4096:
        _plans.clear()
    _plans[key] = plan
    return plan


def plan_for(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
) -> ConvTransposePlan:
    """The plan of a batched call with these tensors (shapes, dtype, device and layout); plans
    are cached per distinct call."""
    arguments = dict(
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        output_size=output_size,
        **tensor_facts(input, weight, bias),
    )
    return cached_plan(plan_conv_transpose, (static_shape(input), static_shape(weight)), **arguments)


def _prepare(
    ndim: int, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size
) -> tuple[ConvTransposePlan, torch.Tensor, bool]:
    """Check the tensors and plan the call: ``(plan, batched input, whether it was unbatched)``."""
    unbatched = check_tensors(input, weight, bias, ndim)
    batched = input.unsqueeze(0) if unbatched else input
    plan = plan_for(batched, weight, bias, stride, padding, output_padding, groups, dilation, output_size=output_size)
    return plan, batched, unbatched


def conv_transpose(
    ndim: int,
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """A transposed convolution with ``ndim`` spatial axes; see :func:`conv_transpose2d`."""
    input, weight, bias = autocast_operands(input, weight, bias)
    plan, batched, unbatched = _prepare(ndim, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size)
    out = run_planned(plan, batched, weight, bias, algorithm)
    return out.squeeze(0) if unbatched else out


def run_planned(
    plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], algorithm: str = "auto"
) -> torch.Tensor:
    """Run a planned (batched) transposed convolution with the chosen algorithm (autotuned when on)."""
    return planned_algorithm(plan, input, weight, bias, algorithm).run(plan, input, weight, bias)


def planned_algorithm(
    plan: ConvTransposePlan,
    input: torch.Tensor,
    weight: Union[torch.Tensor, Callable[[], torch.Tensor]],
    bias: Optional[torch.Tensor],
    algorithm: str = "auto",
) -> algorithms.Algorithm:
    """The algorithm :func:`run_planned` runs: the forced one, the heuristics', or the autotuned
    one when autotuning is on (``weight`` may be a function returning it, called only then)."""
    if algorithm == "auto" and autotune_enabled() and not torch.compiler.is_compiling():
        return _choose(plan, input, weight() if callable(weight) else weight, bias).algorithm
    return algorithms.select(plan, algorithm)


def _choose(
    plan: ConvTransposePlan, input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], algorithm: str = "auto"
) -> algorithms.Choice:
    """The choice for a call, autotuning on detached copies of its tensors where that is on."""
    tensors = [None if t is None else t.detach().requires_grad_(plan.requires_grad) for t in (input, weight, bias)]

    def run(name: str) -> None:
        with torch.set_grad_enabled(plan.requires_grad):
            out = algorithms.get(name).run(plan, *tensors)
            if plan.requires_grad:
                out.backward(torch.ones_like(out))

    return algorithms.choose(plan, algorithm, device=input.device, run=run)


def explain(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> algorithms.Choice:
    """Which algorithm a transposed convolution with these arguments runs, and why the others don't.

    Takes the arguments of :func:`conv_transpose2d` (the number of spatial axes is read from the
    weight). ``str()`` of the result is a readable report; with autotuning on, this may time the
    capable algorithms (as the call itself would).
    """
    ndim = weight.dim() - 2 if isinstance(weight, torch.Tensor) else 0
    input, weight, bias = autocast_operands(input, weight, bias)
    plan, batched, _ = _prepare(ndim, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size)
    return _choose(plan, batched, weight, bias, algorithm)


def conv_transpose1d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """1-d transposed convolution; see :func:`conv_transpose2d`.

    Shapes: input ``(N, Cin, L)`` or ``(Cin, L)``; weight ``(Cin, Cout // groups, k)``;
    output ``(N, Cout, Lout)`` or ``(Cout, Lout)``.
    """
    return conv_transpose(
        1, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size=output_size, algorithm=algorithm
    )


def conv_transpose2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """2-d transposed convolution in any framework's padding vocabulary.

    Same positional arguments and meaning as :func:`torch.nn.functional.conv_transpose2d`, with
    more ways to say the padding. Per axis the result is a window of the full output
    ``(i - 1) * stride + (k - 1) * dilation + 1`` long (see :mod:`tconv.geometry`).

    Args:
        input: ``(N, Cin, H, W)`` or unbatched ``(Cin, H, W)``; any layout (channels_last kept).
        weight: ``(Cin, Cout // groups, kH, kW)`` (PyTorch/ONNX layout; see
            :func:`tconv.convert_weight` for others).
        bias: ``(Cout,)`` or None.
        stride, dilation: int or one int per axis, each >= 1.
        padding: an int or one int per axis (PyTorch: crop that many samples at both ends);
            ``"valid"`` (no crop); ``"same"`` / ``"same_upper"`` (TF, ONNX SAME_UPPER: output =
            input × stride, the odd crop at the end); ``"same_lower"`` (ONNX: the odd crop at the
            start); or one ``(begin, end)`` pair per axis (ONNX ``pads``, TF explicit padding).
        output_padding: int or per axis, each < max(stride, dilation): zeros appended to the full
            output before the crop.
        groups: channel groups.
        output_size: the spatial output size (TF/ONNX ``output_shape``, torch ``output_size``;
            ``(N, C, H, W)`` also accepted). Raises with the legal range if the padding cannot
            give it.
        algorithm: ``"auto"`` or an algorithm name from :data:`tconv.algorithms.ALGORITHMS`.

    Returns:
        ``(N, Cout, Hout, Wout)`` (or unbatched ``(Cout, Hout, Wout)``), in the input's dtype and layout.

    Raises:
        ValueError: a shape or argument the operation cannot take (the message names it and the
            legal values); also when the forced ``algorithm`` cannot run the problem.
        TypeError: a non-tensor, a non-floating dtype, or operands of different dtypes.
    """
    return conv_transpose(
        2, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size=output_size, algorithm=algorithm
    )


def conv_transpose3d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    *,
    output_size: Optional[Sequence[int]] = None,
    algorithm: str = "auto",
) -> torch.Tensor:
    """3-d transposed convolution; see :func:`conv_transpose2d`.

    Shapes: input ``(N, Cin, D, H, W)`` or ``(Cin, D, H, W)``; weight ``(Cin, Cout // groups, kD, kH, kW)``.
    """
    return conv_transpose(
        3, input, weight, bias, stride, padding, output_padding, groups, dilation, output_size=output_size, algorithm=algorithm
    )
