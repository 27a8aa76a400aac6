"""Random fused resampling calls, and every fused algorithm compared with the definition.

Used by ``tconv check`` and by the test suite (``tests/test_fused.py`` and the generic
``tests/test_algorithms.py``), so that both exercise the same space: 1-3 spatial axes, odd and
even sizes, every padding kind and ``padding_mode``, dilation, groups (depthwise included), bias,
every upsampling mode and ``align_corners``, per-axis scales, strides and pool sizes. The
definition is :mod:`tconv.fused.reference`, written from the public arguments alone.
"""

from __future__ import annotations

import math
import random
from typing import Optional

import torch

from ..core.plan import PADDING_MODES
from ..core.testing import Comparison, ConvCase, FamilyTests, conv_terms, describe, error_against_reference
from . import DISPATCHER, reference
from .functional import explain_fused, fused
from .plan import LINEAR_MODES as LINEAR
from .plan import plan_conv_pool, plan_upsample_conv

OPS = ("upsample_conv", "conv_pool")
#: What the definition (PyTorch's functions) raises when it refuses a call.
REFUSALS = (RuntimeError, ValueError, NotImplementedError)
#: Spatial axes drawn by :func:`random_case`: 2-d most often (the only rank ``separable`` runs),
#: 3-d least (the slowest).
NDIMS = (1, 1, 2, 2, 2, 3)

#: One fused call: ``Case(op, ndim, input_shape, weight_shape, bias, kwargs)``, ``op`` one of :data:`OPS`.
Case = ConvCase
each_axis = reference.per_axis


# --------------------------------------------------------------------------------------------
# random calls
# --------------------------------------------------------------------------------------------


def _pick_per_axis(rng: random.Random, ndim: int, draw):
    """An int, or one entry per axis (possibly different)."""
    return draw() if rng.random() < 0.4 else tuple(draw() for _ in range(ndim))


def random_case(rng: random.Random, op: Optional[str] = None, ndim: Optional[int] = None) -> Case:
    """A random call of ``op`` with ``ndim`` spatial axes (each drawn when not given: the ops
    equally often, the ranks from :data:`NDIMS`). Some are calls the definition refuses (reflect
    padding as wide as the signal, a kernel longer than the padded input, ...): see :func:`testable`."""
    op = rng.choice(OPS) if op is None else op
    ndim = rng.choice(NDIMS) if ndim is None else ndim
    small = ndim == 3
    kind = rng.choice(("plain", "plain", "two", "depthwise"))
    if kind == "plain":
        groups, cin, cout = 1, rng.randint(1, 4 if not small else 2), rng.randint(1, 4 if not small else 2)
    elif kind == "two":
        groups, cin, cout = 2, 2 * rng.randint(1, 2), 2 * rng.randint(1, 2)
    else:
        cin = rng.randint(1, 4 if not small else 3)
        groups, cout = cin, cin * rng.randint(1, 2)
    batch = rng.randint(1, 3)
    kernel = [rng.randint(1, 4 if not small else 3) for _ in range(ndim)]

    kw = {}
    kw["padding"] = rng.choice(
        (
            rng.randint(0, 3),
            tuple(rng.randint(0, 3) for _ in range(ndim)),
            "same",
            "valid",
        )
    )
    kw["dilation"] = _pick_per_axis(rng, ndim, lambda: rng.choice((1, 1, 2, 3)))
    kw["groups"] = groups
    kw["padding_mode"] = rng.choice(PADDING_MODES)
    if op == "upsample_conv":
        size = [rng.randint(1, {1: 9, 2: 6, 3: 4}[ndim]) for _ in range(ndim)]
        max_scale = 4 if not small else 3
        scale = _pick_per_axis(rng, ndim, lambda: rng.randint(1, max_scale))
        if isinstance(scale, int) and rng.random() < 0.15:
            scale = float(scale)  # an integral float is accepted
        kw["scale_factor"] = scale
        kw["mode"] = rng.choice(("nearest", "nearest-exact", LINEAR[ndim], LINEAR[ndim]))
        kw["align_corners"] = rng.choice((None, False, True)) if kw["mode"] == LINEAR[ndim] else None
    else:
        kw["stride"] = _pick_per_axis(rng, ndim, lambda: rng.choice((1, 1, 2, 3)))
        if kw["padding"] == "same" and rng.random() < 0.7:
            kw["stride"] = 1  # "same" with a stride is refused (as by nn.ConvNd): keep a few of those
        kw["pool_size"] = _pick_per_axis(rng, ndim, lambda: rng.randint(1, 3))
        # mostly large enough for at least one pooled output (odd and even), sometimes anything small
        size = []
        for k, d, s, p in zip(kernel, *(each_axis(kw[key], ndim) for key in ("dilation", "stride", "pool_size"))):
            needed = d * (k - 1) + 1 + s * (p - 1)
            largest = {1: 14, 2: 10, 3: 7}[ndim]
            size.append(rng.randint(1, 4) if rng.random() < 0.15 else min(largest, max(1, needed + rng.randint(-1, 3))))
    return Case(op, ndim, (batch, cin, *size), (cout, cin // groups, *kernel), rng.random() < 0.5, kw)


def random_cases(seed: int, count: int) -> list[Case]:
    """``count`` random calls drawn from ``seed`` (:func:`random_case`)."""
    rng = random.Random(seed)
    return [random_case(rng) for _ in range(count)]


def testable(case: Case) -> bool:
    """Whether the definition (:mod:`.reference`, PyTorch's own functions) runs ``case``; tconv
    refuses the others too (the tests check it), so they compare nothing."""
    x, w, b = case.tensors(torch.float64)
    try:
        reference.fused(case.op, x, w, b, **case.kwargs)
    except REFUSALS:
        return False
    return True


# --------------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------------


def fan_in(case: Case) -> int:
    """How many products the resampling folds into each of the op's sums: per axis, the
    upsampled samples that read one input sample (``scale`` for nearest, up to ``2 * scale`` for
    linear interpolation: the input gradient sums them all), or the pooling window."""
    if case.op == "conv_pool":
        return math.prod(each_axis(case.kwargs.get("pool_size", 2), case.ndim))
    linear = case.kwargs.get("mode", "nearest") == LINEAR[case.ndim]
    scales = [int(s) for s in each_axis(case.kwargs.get("scale_factor", 2), case.ndim)]
    return math.prod(2 * s if linear and s > 1 else s for s in scales)


def terms(case: Case) -> int:
    """The longest sum in ``case``'s forward or gradients (:func:`tconv.core.testing.conv_terms`),
    the resampling's :func:`fan_in` folded in."""
    batched = case.input_shape if len(case.input_shape) == case.ndim + 2 else (1, *case.input_shape)
    planner = plan_upsample_conv if case.op == "upsample_conv" else plan_conv_pool
    plan = planner(batched, case.weight_shape, **case.kwargs)
    signal = [axis.signal for axis in plan.axes]
    return conv_terms(
        plan.batch,
        plan.in_channels,
        plan.out_channels,
        plan.groups,
        case.weight_shape[2:],
        signal,
        [axis.conv_length for axis in plan.axes],
        fan_in(case),
    )


def compare_with_reference(
    case: Case,
    algorithm: str,
    dtype: torch.dtype = torch.float32,
    *,
    seed: int = 0,
    channels_last: bool = False,
    gradients: bool = True,
) -> Comparison:
    """``algorithm`` (or ``"auto"``) against the definition (:func:`tconv.fused.reference.fused`)
    in float64 on the same rounded values: the largest relative error of the output and, with
    ``gradients``, the gradients of input, weight and bias, and the tolerance for ``dtype`` and
    the case's longest sum (:func:`terms`)."""
    tensors = case.tensors(dtype, seed=seed, requires_grad=gradients, channels_last=channels_last)

    def run(x, w, b):
        return fused(case.op, case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def definition(x, w, b):
        return reference.fused(case.op, x, w, b, **case.kwargs)

    return error_against_reference(
        run,
        definition,
        tensors,
        torch.float64,
        seed=seed,
        gradients=gradients,
        terms=terms(case),
        linear=True,
        label=describe(algorithm, dtype, case, channels_last=channels_last, gradients=gradients),
    )


def unable(
    case: Case, dtype: torch.dtype = torch.float32, *, channels_last: bool = False, gradients: bool = True
) -> dict[str, list[str]]:
    """Each fused algorithm's reasons for not running ``case`` in ``dtype`` (empty: it can)."""
    tensors = case.tensors(dtype, requires_grad=gradients, channels_last=channels_last)
    return explain_fused(case.op, *tensors, **case.kwargs).reasons


def variant(index: int) -> dict:
    """The ``index``-th drawn case's layout and mode: channels-last every third, inference
    (no gradients) every fourth."""
    return {"channels_last": index % 3 == 0, "gradients": index % 4 != 3}


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`). The fused ops take
#: real floating-point tensors only, so complex dtypes are not among those tested.
TESTS = FamilyTests(
    name="fused",
    title="upsample_conv, conv_pool: forward and gradients against the float64 definition",
    algorithms=DISPATCHER.algorithms,
    random_case=random_case,
    unable=unable,
    compare_with_reference=compare_with_reference,
    variant=variant,
    testable=testable,
    dtypes=(torch.float64, torch.float32, torch.float16, torch.bfloat16),
)
