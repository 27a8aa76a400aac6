"""Random custom convolutions, and their comparison with the definition.

Used by ``tconv check`` and the test suite (``tests/test_algorithms.py``), so that both exercise the
same space: 1-3 spatial axes, odd and even sizes, every padding kind and ``padding_mode``, stride,
dilation, groups (depthwise included), bias, every preset pair and a few callables, and memory
budgets that force several chunks. An algorithm is compared with
:func:`~tconv.custom.reference.custom_conv_reference`, the definition written index by index in
float64, called with the case's public arguments (not with anything the plan derived from them).
"""

from __future__ import annotations

import math
import random
from typing import Optional

import torch

from ..core.geometry import conv_output_length
from ..core.plan import PADDING_MODES
from ..core.testing import (
    ROUNDING,
    Comparison,
    ConvCase,
    FamilyTests,
    conv_terms,
    describe,
    epsilon,
    error_against_reference,
)
from . import DISPATCHER
from .functional import custom_conv, explain_custom
from .plan import COMBINES, LINEAR, LIVE_TENSORS, REDUCES
from .reference import COMBINES as DEFINED_COMBINES
from .reference import custom_conv_reference, pads


def maximum(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """A callable combine: the larger of sample and weight (a max-plus flavour)."""
    return torch.maximum(x, w)


def tanh_product(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """A callable combine: a nonlinearity on each product."""
    return torch.tanh(x * w)


def sum_of_squares(t: torch.Tensor, dim: int) -> torch.Tensor:
    """A callable reduce."""
    return t.square().sum(dim)


def soft_maximum(t: torch.Tensor, dim: int) -> torch.Tensor:
    """A callable reduce: a temperature-scaled logsumexp."""
    return 0.5 * torch.logsumexp(2 * t, dim)


COMBINE_CALLABLES = (maximum, tanh_product)
REDUCE_CALLABLES = (sum_of_squares, soft_maximum)


class Case(ConvCase):
    """One call: ``tconv.custom_conv<ndim>d(x, w, b, **kwargs)`` with random tensors of these shapes."""

    def __init__(self, ndim: int, input_shape: tuple, weight_shape: tuple, bias: bool, kwargs: Optional[dict] = None):
        super().__init__("custom_conv", ndim, input_shape, weight_shape, bias, {} if kwargs is None else kwargs)


def random_case(rng: random.Random) -> Case:
    """A random legal call (shapes large enough for at least one output), 1-d and 2-d twice as
    often as the slower 3-d; one in five takes a linear preset pair (what ``conv`` runs)."""
    ndim = rng.choice((1, 1, 2, 2, 3))
    small = ndim == 3
    kind = rng.choice(("plain", "plain", "two", "depthwise"))
    if kind == "plain":
        groups, cin, cout = 1, rng.randint(1, 4 if not small else 2), rng.randint(1, 4 if not small else 2)
    elif kind == "two":
        groups, cin, cout = 2, 2 * rng.randint(1, 2), 2 * rng.randint(1, 2)
    else:
        cin = rng.randint(1, 4 if not small else 3)
        groups, cout = cin, cin * rng.randint(1, 2)
    kernel = [rng.randint(1, 4 if not small else 3) for _ in range(ndim)]
    stride = tuple(rng.choice((1, 1, 2, 3)) for _ in range(ndim))
    dilation = tuple(rng.choice((1, 1, 2)) for _ in range(ndim))
    padding_mode = rng.choice(PADDING_MODES)
    padding = rng.choice(("valid", "same", rng.randint(0, 2), tuple(rng.randint(0, 2) for _ in range(ndim))))
    if padding == "same":
        stride = (1,) * ndim
    largest = {1: 12, 2: 8, 3: 5}[ndim]
    size = [
        max(d * (k - 1) + 1, 3, rng.randint(1, largest)) for k, d in zip(kernel, dilation)
    ]  # reflect needs pad < size
    if rng.random() < 0.2:
        combine, reduce = rng.choice((*sorted(LINEAR[0]), None)), rng.choice(sorted(LINEAR[1]))
    else:
        combine, reduce = rng.choice((*COMBINES, None, *COMBINE_CALLABLES)), rng.choice((*REDUCES, *REDUCE_CALLABLES))
    kw = dict(
        stride=stride if rng.random() < 0.7 else stride[0],
        padding=padding,
        dilation=dilation,
        groups=groups,
        combine=combine,
        reduce=reduce,
        padding_mode=padding_mode,
    )
    if rng.random() < 0.3:  # several chunks: of samples, positions or output channels
        fan_in = cin // groups * math.prod(kernel)
        kw["max_memory"] = groups * fan_in * 8 * LIVE_TENSORS * rng.choice((1, 3, 10, 40))  # float64 positions
    return Case(ndim, (rng.randint(1, 3), cin, *size), (cout, cin // groups, *kernel), rng.random() < 0.5, kw)


def random_cases(seed: int, count: int) -> list[Case]:
    """``count`` random calls (:func:`random_case`) drawn from ``seed``."""
    rng = random.Random(seed)
    return [random_case(rng) for _ in range(count)]


def variant(index: int) -> dict:
    """The ``index``-th drawn case's variant: a channels-last input one time in three, the
    forward alone one time in four."""
    return {"channels_last": index % 3 == 0, "gradients": index % 4 != 3}


#: Dtypes in which rounding the combined values makes near ties into ties.
HALF = (torch.float16, torch.bfloat16)


def gradients_defined(case: Case, dtype: torch.dtype) -> bool:
    """Whether ``case``'s gradients in ``dtype`` are those of the float64 reference: not for
    ``max`` and ``min`` in the half types, where two values apart in float64 may round to a tie
    (or the other way round) and the gradient goes to another pair. Exact ties (padded zeros
    times weights, say) stay exact in float64 and follow the same documented rule."""
    return not (case.kwargs.get("reduce") in ("max", "min") and dtype in HALF)


#: Reduces whose gradient gives each combined value ``t`` the weight ``exp(temperature * (t - out))``:
#: by their temperature.
EXPONENTIAL = {"logsumexp": 1.0, soft_maximum: 2.0}
#: Reduces that raise each value to a power: it multiplies the values' relative errors.
POWER = {sum_of_squares: 2.0}


def condition(case: Case, tensors: tuple, gradients: bool) -> float:
    """How many times the op magnifies the rounding of the combined values ``t`` (each rounded to
    the dtype before the reduction, ``|error| <= eps * |t|``), relative to the largest output:

    * a sum or mean of values that cancel: the largest ``sum |t|`` (``mean |t|``) of a window
      over the largest ``|out|``;
    * a power (:data:`POWER`): its exponent;
    * the gradients of an exponential reduce (:data:`EXPONENTIAL`): an error ``eps * |t|`` of ``t``
      is a relative error ``temperature * eps * |t|`` of its weight; ``temperature`` times the
      largest ``|t|`` of any sample (or a padded zero) with any weight;

    and 1 for what rounds only once (``max``, ``min``, the other gradients)."""
    x, w, b = (None if t is None else t.detach().double() for t in tensors)
    public = {key: value for key, value in case.kwargs.items() if key != "max_memory"}
    combine = public.pop("combine", None) or "mul"
    combine = DEFINED_COMBINES[combine] if isinstance(combine, str) else combine
    found = 1.0
    if public.get("reduce") in ("sum", "mean"):
        with torch.no_grad():
            largest = custom_conv_reference(x, w, b, **public, combine=combine).abs().max().item()
            magnitude = custom_conv_reference(x, w, None, **public, combine=lambda x, w: combine(x, w).abs())
        found = max(found, magnitude.max().item() / largest if largest else 1.0)
    found = max(found, POWER.get(public.get("reduce"), 1.0))
    temperature = EXPONENTIAL.get(public.get("reduce"))
    if gradients and temperature is not None:
        samples = torch.cat([x.flatten(), torch.zeros(1, dtype=torch.float64)])
        found = max(found, temperature * combine(samples[:, None], w.flatten()[None, :]).abs().max().item())
    return found


def terms(case: Case) -> int:
    """The longest sum of ``case``'s forward and gradients (:func:`~tconv.core.testing.conv_terms`),
    its output size measured by the reference's padding rule."""
    ndim, kw = case.ndim, case.kwargs
    kernel, sizes = case.weight_shape[2:], case.input_shape[2:]
    per_axis = lambda v: tuple(v) if isinstance(v, tuple) else (v,) * ndim  # noqa: E731
    stride, dilation = per_axis(kw.get("stride", 1)), per_axis(kw.get("dilation", 1))
    padding = pads(kw.get("padding", 0), kernel, dilation)
    out = [conv_output_length(n, k, s, d, b, e) for n, (b, e), k, s, d in zip(sizes, padding, kernel, stride, dilation)]
    cin, cout = case.input_shape[1], case.weight_shape[0]
    return conv_terms(case.input_shape[0], cin, cout, kw.get("groups", 1), kernel, sizes, out)


def compare_with_reference(
    case: Case,
    algorithm: str,
    dtype: torch.dtype = torch.float32,
    *,
    seed: int = 0,
    channels_last: bool = False,
    gradients: bool = True,
) -> Comparison:
    """``algorithm`` against :func:`~tconv.custom.reference.custom_conv_reference` (float64) on the
    same rounded values: the output and, with ``gradients`` (where :func:`gradients_defined`), the
    gradients of input, weight and bias; held to the dtype's :func:`~tconv.core.testing.tolerance`
    for the case's longest sum, its rounding part magnified by the op's :func:`condition`."""
    gradients = gradients and gradients_defined(case, dtype)
    tensors = case.tensors(dtype, seed=seed, requires_grad=gradients, channels_last=channels_last)
    public = {key: value for key, value in case.kwargs.items() if key != "max_memory"}

    def run(x, w, b):
        return custom_conv(case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def reference(x, w, b):
        return custom_conv_reference(x, w, b, **public)

    comparison = error_against_reference(
        run,
        reference,
        tensors,
        torch.float64,
        seed=seed,
        gradients=gradients,
        terms=terms(case),
        label=describe(algorithm, dtype, case, channels_last=channels_last, gradients=gradients),
    )
    magnified = condition(case, tensors, gradients) - 1
    return Comparison(comparison.error, comparison.tolerance + ROUNDING * epsilon(dtype) * magnified, comparison.label)


def unable(
    case: Case, dtype: torch.dtype = torch.float32, *, channels_last: bool = False, gradients: bool = True
) -> dict[str, list[str]]:
    """Each custom algorithm's reasons for not running ``case`` in ``dtype`` (empty: it can)."""
    tensors = case.tensors(dtype, requires_grad=gradients, channels_last=channels_last)
    return explain_custom(*tensors, **case.kwargs).reasons


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`).
TESTS = FamilyTests(
    name="custom",
    title="custom_conv: forward and gradients against the definition in float64",
    algorithms=DISPATCHER.algorithms,
    random_case=random_case,
    unable=unable,
    compare_with_reference=compare_with_reference,
    variant=variant,
    dtypes=(torch.float64, torch.float32, torch.float16, torch.bfloat16),
)
