"""Random fused resampling problems and the plain torch composition they must equal.

Used by ``tconv check`` and by the test suite (``tests/test_fused.py``), so that both exercise the
same space: 1-3 spatial axes, odd and even sizes, every padding kind and ``padding_mode``,
dilation, groups (depthwise included), bias, every upsampling mode and ``align_corners``, per-axis
scales, strides and pool sizes. :func:`naive` is the definition: ``conv(pad(interpolate(x)))`` and
``avg_pool(conv(x))`` written with torch's public functions, exactly as ``nn.ConvNd`` pads.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from ..core.plan import PADDING_MODES
from ..core.testing import ConvCase, FamilyTests, error_against_reference
from ..kernels.ops import F_AVG_POOL, F_CONV
from . import DISPATCHER
from .functional import explain_fused, fused
from .plan import LINEAR_MODES as LINEAR

OPS = ("upsample_conv", "conv_pool")
#: What torch's composition raises when it refuses a configuration.
TORCH_REFUSES = (RuntimeError, ValueError, NotImplementedError)


# --------------------------------------------------------------------------------------------
# the naive composition (the definition the fused ops must equal)
# --------------------------------------------------------------------------------------------


def each_axis(value, ndim: int) -> tuple:
    """``value`` as one entry per spatial axis (a sequence as is, a scalar repeated)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim


def naive_conv(x, w, b, stride, padding, dilation, groups, padding_mode):
    """``nn.ConvNd``'s forward: a non-"zeros" padding_mode pads explicitly, then convolves unpadded."""
    ndim = w.dim() - 2
    if padding_mode == "zeros":
        return F_CONV[ndim](x, w, b, stride, padding, dilation, groups)
    if padding == "same" and any(s != 1 for s in each_axis(stride, ndim)):
        raise ValueError("padding='same' is not supported for strided convolutions")  # as nn.ConvNd
    if padding == "valid":
        pads = [(0, 0)] * ndim
    elif padding == "same":
        totals = [d * (k - 1) for d, k in zip(each_axis(dilation, ndim), w.shape[2:])]
        pads = [(t // 2, t - t // 2) for t in totals]
    else:
        pads = [(p, p) for p in each_axis(padding, ndim)]
    reversed_padding_repeated_twice = [v for begin_end in reversed(pads) for v in begin_end]
    return F_CONV[ndim](F.pad(x, reversed_padding_repeated_twice, mode=padding_mode), w, b, stride, 0, dilation, groups)


def naive(op, x, w, b=None, **kw):
    """The plain torch composition that ``tconv.<op>`` fuses (unbatched input is handled like F.convNd)."""
    ndim = w.dim() - 2
    if x.dim() == ndim + 1:
        return naive(op, x.unsqueeze(0), w, b, **kw).squeeze(0)
    conv = dict(
        padding=kw.get("padding", 0),
        dilation=kw.get("dilation", 1),
        groups=kw.get("groups", 1),
        padding_mode=kw.get("padding_mode", "zeros"),
    )
    if op == "upsample_conv":
        u = F.interpolate(
            x,
            scale_factor=kw.get("scale_factor", 2),
            mode=kw.get("mode", "nearest"),
            align_corners=kw.get("align_corners"),
        )
        return naive_conv(u, w, b, stride=1, **conv)
    y = naive_conv(x, w, b, stride=kw.get("stride", 1), **conv)
    return F_AVG_POOL[ndim](y, kw.get("pool_size", 2))


# --------------------------------------------------------------------------------------------
# random configurations
# --------------------------------------------------------------------------------------------


#: One fused call: ``Case(op, ndim, input_shape, weight_shape, bias, kwargs)``, ``op`` one of :data:`OPS`.
Case = ConvCase


def _pick_per_axis(rng, ndim, draw):
    """An int, or one entry per axis (possibly different)."""
    return draw() if rng.random() < 0.4 else tuple(draw() for _ in range(ndim))


def random_case(rng: random.Random, op: str, ndim: int) -> Case:
    """A random call of ``op`` (some of which torch's composition refuses, e.g. reflect pad >= size)."""
    small = ndim == 3
    kind = rng.choice(("plain", "plain", "two", "depthwise"))
    if kind == "plain":
        groups, cin, cout = 1, rng.randint(1, 4 if not small else 2), rng.randint(1, 4 if not small else 2)
    elif kind == "two":
        groups, cin, cout = 2, 2 * rng.randint(1, 2), 2 * rng.randint(1, 2)
    else:
        cin = rng.randint(1, 4 if not small else 3)
        groups, cout = cin, cin * rng.randint(1, 2)
    batch = rng.randint(1, 2)
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
    """``count`` random calls of both ops, 1-d and 2-d twice as often as the slower 3-d."""
    rng = random.Random(seed)
    return [random_case(rng, rng.choice(OPS), rng.choice((1, 1, 2, 2, 3))) for _ in range(count)]


def torch_accepts(case: Case) -> bool:
    """Whether torch's own composition runs ``case`` (in float64)."""
    x, w, b = case.tensors(seed=0)
    try:
        naive(case.op, x, w, b, **case.kwargs)
    except TORCH_REFUSES:
        return False
    return True


def compare_with_reference(case: Case, algorithm: str, dtype: torch.dtype = torch.float32, *, seed: int = 0) -> float:
    """Largest relative error of ``algorithm`` against the float64 composition (:func:`naive`) on
    the same rounded values: the output and the gradients of input, weight and bias."""
    tensors = case.tensors(dtype, seed=seed, requires_grad=True)

    def run(x, w, b):
        return fused(case.op, case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def composition(x, w, b):
        return naive(case.op, x, w, b, **case.kwargs)

    return error_against_reference(run, composition, tensors, torch.float64, seed=seed, label=f"{algorithm} on {case}")


def unable(case: Case, dtype: torch.dtype = torch.float32, **layout: object) -> dict[str, list[str]]:
    """Each fused algorithm's reasons for not running ``case`` in ``dtype`` (empty: it can)."""
    return explain_fused(case.op, *case.tensors(dtype, requires_grad=True), **case.kwargs).reasons


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`); the reference is
#: PyTorch's own composition, so a case it refuses is no test.
TESTS = FamilyTests(
    name="fused",
    title="upsample_conv, conv_pool: forward and gradients against the float64 composition",
    algorithms=DISPATCHER.algorithms,
    random_cases=random_cases,
    unable=unable,
    compare_with_reference=compare_with_reference,
    testable=torch_accepts,
)
