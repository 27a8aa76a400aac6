"""The way into every op: tensor checks, autocast, the plan cache, and the call itself, once.

Each public op (``conv_transposeNd``, ``upsample_convNd``, ``conv_poolNd``, ``custom_convNd``) is
an :class:`Op`: its family's dispatcher, its planner and the weight layout it documents. A call
checks the tensors (types, dtypes, devices, dimensions), casts them as ``torch.autocast`` casts
PyTorch's convolutions, batches an unbatched input, plans (cached per distinct call: shapes,
arguments and tensor facts), lets the dispatcher pick an algorithm and runs it. Public functions
are tagged with their op (:func:`public`), so that :func:`explain` takes any of them with its
arguments: ``explain(tconv.upsample_conv2d, x, w, scale_factor=2)``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

import torch

from .dispatch import Choice, Dispatcher
from .plan import CHANNELS_LAST

Plan = TypeVar("Plan")
F = TypeVar("F", bound=Callable)


def check_tensors(
    input: object, weight: object, bias: object, ndim: int, *, weight_layout: str, complex: bool = True
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
            raise TypeError(
                f"{name}: dtype {value.dtype} does not match the input's {input.dtype}; convert one of them"
            )
        if value is not None and value.device != input.device:
            raise ValueError(f"{name}: is on {value.device} but the input is on {input.device}")
    if weight.dim() != ndim + 2:
        raise ValueError(f"weight: expected {ndim + 2} dimensions {weight_layout}; got shape {tuple(weight.shape)}")
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
    return (
        layout is not None
        and input.shape[1] > 1
        and input.is_contiguous(memory_format=layout)
        and not input.is_contiguous()
    )


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
    """A batched call's tensors as the planners take them (:class:`~tconv.core.plan.TensorFacts`
    and the bias shape)."""
    return dict(
        has_bias=bias is not None,
        bias_shape=None if bias is None else tuple(bias.shape),
        dtype=input.dtype,
        device_type=input.device.type,
        channels_last=is_channels_last(input),
        requires_grad=torch.is_grad_enabled()
        and (input.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)),
    )


def cached_plan(planner: Callable[..., Plan], shapes: tuple, **arguments: object) -> Plan:
    """``planner(*shapes, **arguments)``, cached per distinct call."""
    key = (planner, shapes, _arguments_key(tuple(arguments.values())))
    try:
        return _plans[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable argument: the planner says what is wrong with it
        return planner(*shapes, **arguments)
    plan = planner(*shapes, **arguments)
    if len(_plans) >= 4096:
        _plans.clear()
    _plans[key] = plan
    return plan


def plan_call(planner: Callable[..., Plan], input: torch.Tensor, weight: torch.Tensor, bias, arguments: dict) -> Plan:
    """The (cached) plan of a batched call with these tensors and arguments."""
    facts = tensor_facts(input, weight, bias)
    return cached_plan(planner, (static_shape(input), static_shape(weight)), **arguments, **facts)


@dataclass(frozen=True, eq=False)
class Op:
    """One public op: its family's dispatcher, its planner (``planner(input_shape, weight_shape,
    **arguments, **tensor_facts)``) and the weight layout its errors name.

    Calls take the number of spatial axes, the tensors, the algorithm and the op's arguments by
    name, in the order of the public function's signature.
    """

    name: str
    dispatcher: Dispatcher
    planner: Callable[..., object]
    weight_layout: str
    complex: bool = False

    def prepare(self, ndim: int, input, weight, bias, arguments: dict) -> tuple[object, torch.Tensor, bool]:
        """Check the tensors and plan the call: ``(plan, batched input, whether it was unbatched)``."""
        unbatched = check_tensors(input, weight, bias, ndim, weight_layout=self.weight_layout, complex=self.complex)
        batched = input.unsqueeze(0) if unbatched else input
        return plan_call(self.planner, batched, weight, bias, arguments), batched, unbatched

    def __call__(self, ndim: int, input, weight, bias, algorithm: str, arguments: dict) -> torch.Tensor:
        input, weight, bias = autocast_operands(input, weight, bias)
        plan, batched, unbatched = self.prepare(ndim, input, weight, bias, arguments)
        out = self.dispatcher.select(plan, algorithm, (batched, weight, bias)).run(plan, batched, weight, bias)
        return out.squeeze(0) if unbatched else out

    def explain(self, ndim: Optional[int], input, weight, bias, algorithm: str, arguments: dict) -> Choice:
        """Which algorithm the call runs and why the others don't (``ndim`` None: the weight's)."""
        if ndim is None:
            ndim = weight.dim() - 2 if isinstance(weight, torch.Tensor) else 0
        input, weight, bias = autocast_operands(input, weight, bias)
        plan, batched, _ = self.prepare(ndim, input, weight, bias, arguments)
        return self.dispatcher.choose(plan, algorithm, (batched, weight, bias))


def public(op: Op, ndim: Optional[int]) -> Callable[[F], F]:
    """Tag a public function as ``op`` with ``ndim`` spatial axes (None: the weight's), for
    :func:`explain`; the function itself is returned unchanged."""

    def tag(function: F) -> F:
        function.__tconv_op__ = (op, ndim)
        return function

    return tag


def explain(function: Callable, *args: object, **kwargs: object) -> Choice:
    """Which algorithm ``function(*args, **kwargs)`` runs, and why the others don't, for any of
    tconv's public ops. ``str()`` of the result is a readable report; with autotuning on, this may
    time the capable algorithms (as the call itself would)."""
    try:
        op, ndim = function.__tconv_op__
    except AttributeError:
        raise TypeError(
            f"function: expected one of tconv's ops (tconv.conv_transpose2d, tconv.upsample_conv2d, "
            f"tconv.conv_pool2d, tconv.custom_conv2d, their 1-d and 3-d forms); got {function!r}"
        ) from None
    return op.explain(ndim, *bind(function, *args, **kwargs))


def bind(function: Callable, *args: object, **kwargs: object) -> tuple:
    """``function``'s arguments as :meth:`Op.explain` takes them: ``(input, weight, bias,
    algorithm, the op's arguments by name in the signature's order)``."""
    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    tensors = [arguments.pop(name) for name in ("input", "weight", "bias")]
    return (*tensors, arguments.pop("algorithm"), arguments)
