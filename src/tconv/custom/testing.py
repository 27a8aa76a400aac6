"""Random custom convolutions and the float64 recipe they must equal.

Used by ``tconv check`` and the test suite (``tests/test_custom.py``), so that both exercise the
same space: 1-3 spatial axes, odd and even sizes, every padding kind and ``padding_mode``, stride,
dilation, groups (depthwise included), bias, every preset pair and a few callables, and memory
budgets that force several chunks. The definition is the ``reference`` algorithm: the
unfold-expand recipe in float64.
"""

from __future__ import annotations

import math
import random
from typing import Optional

import torch

from ..core.plan import PADDING_MODES
from ..core.testing import ConvCase, FamilyTests, error_against_reference
from . import DISPATCHER
from .functional import custom_conv, explain_custom
from .plan import COMBINES, LIVE_TENSORS, REDUCES


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


def random_case(rng: random.Random, ndim: int) -> Case:
    """A random legal call (shapes large enough for at least one output)."""
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
    kw = dict(
        stride=stride if rng.random() < 0.7 else stride[0],
        padding=padding,
        dilation=dilation,
        groups=groups,
        combine=rng.choice((*COMBINES, None, *COMBINE_CALLABLES)),
        reduce=rng.choice((*REDUCES, *REDUCE_CALLABLES)),
        padding_mode=padding_mode,
    )
    if rng.random() < 0.3:  # several chunks: of samples, positions or output channels
        fan_in = cin // groups * math.prod(kernel)
        kw["max_memory"] = groups * fan_in * 8 * LIVE_TENSORS * rng.choice((1, 3, 10, 40))  # float64 positions
    return Case(ndim, (rng.randint(1, 3), cin, *size), (cout, cin // groups, *kernel), rng.random() < 0.5, kw)


def random_cases(seed: int, count: int) -> list[Case]:
    """``count`` random calls, 1-d and 2-d twice as often as the slower 3-d."""
    rng = random.Random(seed)
    return [random_case(rng, rng.choice((1, 1, 2, 2, 3))) for _ in range(count)]


def compare_with_reference(case: Case, algorithm: str, dtype: torch.dtype = torch.float32, *, seed: int = 0) -> float:
    """Largest relative error of ``algorithm`` against ``reference`` (float64) on the same rounded
    values: the output and the gradients of input, weight and bias."""
    tensors = case.tensors(dtype, seed=seed, requires_grad=True)

    def run(x, w, b):
        return custom_conv(case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def reference(x, w, b):
        return custom_conv(case.ndim, x, w, b, **case.kwargs, algorithm="reference")

    return error_against_reference(run, reference, tensors, torch.float64, seed=seed, label=f"{algorithm} on {case}")


def unable(case: Case, dtype: torch.dtype = torch.float32, **layout: object) -> dict[str, list[str]]:
    """Each custom algorithm's reasons for not running ``case`` in ``dtype`` (empty: it can)."""
    return explain_custom(*case.tensors(dtype, requires_grad=True), **case.kwargs).reasons


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`).
TESTS = FamilyTests(
    name="custom",
    title="custom_conv: forward and gradients against the float64 unfold recipe",
    algorithms=DISPATCHER.algorithms,
    random_cases=random_cases,
    unable=unable,
    compare_with_reference=compare_with_reference,
)
