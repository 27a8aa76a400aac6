"""Fused ops against their definition, and the definition against PyTorch's own modules.

``tconv.upsample_conv{1,2,3}d`` must equal ``conv(pad(interpolate(x)))`` and ``tconv.conv_pool{1,2,3}d``
``avg_pool(conv(x))``, exactly like ``nn.ConvNd`` for every ``padding_mode``. The definition is
:mod:`tconv.fused.reference`, written from the public arguments alone; every algorithm is held to
it on random calls, in every dtype, by ``tests/test_algorithms.py`` (through
:data:`tconv.fused.testing.TESTS`). Here: the definition itself (it imports nothing from tconv, and
it equals ``nn.Upsample``, ``nn.ConvNd`` and ``nn.AvgPoolNd`` as PyTorch builds them), the
generator's reach, hand-picked borders, ``auto``, the forcible ``reference`` algorithm, layouts
(unbatched, non-contiguous, inference), refusals and argument errors, gradcheck and the compiled
paths. Every comparison is held to :func:`tconv.core.testing.tolerance` of the dtype and the
call's longest sum.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import random
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import tconv
from tconv.core.testing import Comparison, error_against_reference, relative_error, tolerance
from tconv.fused import reference
from tconv.fused.testing import (
    PADDING_MODES,
    TESTS,
    Case,
    compare_with_reference,
    each_axis,
    random_case,
    terms,
)

# torch's own note on padding="same" with even kernels, raised by nn.ConvNd in the comparison with PyTorch's modules
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

#: The algorithms ``auto`` may take, and ``auto`` itself.
FAST = tuple(name for name, algorithm in tconv.fused.ALGORITHMS.items() if algorithm.auto)
ALGORITHMS = ("auto", *FAST)
F64 = torch.float64


def fused(op, ndim):
    return getattr(tconv, f"{op}{ndim}d")


def assert_within(actual, expected, dtype, n_terms, label=""):
    """``actual`` within the tolerance of ``dtype`` and a longest sum of ``n_terms`` of ``expected``."""
    comparison = Comparison(relative_error(actual, expected), tolerance(dtype, n_terms), label)
    assert comparison.passed, str(comparison)


def drawn(algorithm, count, seed, dtype=F64, *, op=None, ndim=None, **variant):
    """``count`` random calls the definition runs and ``algorithm`` declares it runs in ``dtype``
    (``auto``: every call the definition runs), of ``op`` and ``ndim`` when given."""
    rng, found = random.Random(f"{seed}/{algorithm}/{dtype}"), []
    for _ in range(300 * count):
        if len(found) == count:
            break
        case = random_case(rng, op, ndim)
        if (
            algorithm == "auto"
            and TESTS.testable(case)
            or algorithm != "auto"
            and TESTS.supports(algorithm, case, dtype, **variant)
        ):
            found.append(case)
    assert len(found) == count, f"{algorithm} declares only {len(found)} of {count} {op or ''}{ndim or ''} calls"
    return found


# --------------------------------------------------------------------------------------------
# the definition
# --------------------------------------------------------------------------------------------


def test_the_definition_imports_nothing_from_tconv():
    """The reference shares nothing with the code under test but the public arguments."""
    tree = ast.parse(inspect.getsource(reference))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not [alias.name for alias in node.names if alias.name.split(".")[0] == "tconv"]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and (node.module or "").split(".")[0] != "tconv", ast.dump(node)
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {name.split(".")[0] for name in modules} <= {"__future__", "typing", "torch"}, modules


CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
AVG_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}


def pytorch_modules(case: Case) -> nn.Sequential:
    """``nn.Sequential`` of PyTorch's modules that the call is: upsample and conv, or conv and pool."""
    kw = case.kwargs
    conv = CONV[case.ndim](
        case.input_shape[1],
        case.weight_shape[0],
        case.weight_shape[2:],
        stride=kw.get("stride", 1),
        padding=kw.get("padding", 0),
        dilation=kw.get("dilation", 1),
        groups=kw.get("groups", 1),
        bias=case.bias,
        padding_mode=kw.get("padding_mode", "zeros"),
        dtype=F64,
    )
    if case.op == "upsample_conv":
        upsample = nn.Upsample(
            scale_factor=kw.get("scale_factor", 2),
            mode=kw.get("mode", "nearest"),
            align_corners=kw.get("align_corners"),
        )
        return nn.Sequential(OrderedDict(upsample=upsample, conv=conv))
    return nn.Sequential(OrderedDict(conv=conv, pool=AVG_POOL[case.ndim](kw.get("pool_size", 2))))


def test_the_definition_equals_pytorchs_modules():
    """On random calls, :mod:`tconv.fused.reference` computes what ``nn.Upsample`` + ``nn.ConvNd``
    (+ ``nn.AvgPoolNd``), built by PyTorch with the same arguments, compute (forward and
    gradients), and refuses what they refuse."""
    compared = refused = 0
    for index, case in enumerate(TESTS.random_cases(2026, 150)):
        x, w, b = case.tensors(F64, seed=index, requires_grad=True)
        try:
            modules = pytorch_modules(case)
            modules(x.detach())
        except (RuntimeError, ValueError, NotImplementedError):
            assert not TESTS.testable(case), f"PyTorch's modules refuse {case}, the definition runs it"
            refused += 1
            continue
        assert TESTS.testable(case), f"the definition refuses {case}, PyTorch's modules run it"

        def run(x, w, b):
            parameters = {"conv.weight": w} | ({"conv.bias": b} if b is not None else {})
            return torch.func.functional_call(modules, parameters, (x,))

        def definition(x, w, b):
            return reference.fused(case.op, x, w, b, **case.kwargs)

        comparison = error_against_reference(
            run, definition, (x, w, b), F64, seed=index, terms=terms(case), label=str(case)
        )
        assert comparison.passed, str(comparison)
        compared += 1
    assert compared >= 100 and refused >= 5, (compared, refused)


def test_the_definition_pads_as_documented():
    """``"same"`` puts the odd sample at the end, ints pad both ends, ``"valid"`` nothing: one
    sample of each, checked on an impulse (independently of PyTorch's ``padding="same"``)."""
    x = torch.zeros(1, 1, 5, dtype=F64)
    x[0, 0, 0] = 1.0
    w = torch.arange(1.0, 5.0, dtype=F64).view(1, 1, 4)  # even kernel: 3 samples of padding, 1 + 2
    same = reference.conv_pool(x, w, pool_size=1, padding="same")
    assert same.shape[-1] == 5 and same[0, 0].tolist() == [2.0, 1.0, 0.0, 0.0, 0.0]
    assert reference.conv_pool(x, w, pool_size=1, padding="valid").shape[-1] == 2
    assert reference.conv_pool(x, w, pool_size=1, padding=2)[0, 0].tolist() == [3.0, 2.0, 1.0, 0.0, 0.0, 0.0]
    shifted = torch.roll(x, 1, -1)  # the impulse at sample 1: reflect padding repeats it before sample 0
    reflected = reference.conv_pool(shifted, w, pool_size=1, padding=1, padding_mode="reflect")
    assert reflected[0, 0].tolist() == [1.0 + 3.0, 2.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="strided"):
        reference.conv_pool(x, w, stride=2, padding="same")


# --------------------------------------------------------------------------------------------
# the random calls
# --------------------------------------------------------------------------------------------


def test_random_cases_cover_the_space():
    """The draws are not mostly refused, and those the definition runs reach every option."""
    cases = TESTS.random_cases(0, 600)
    accepted = [case for case in cases if TESTS.testable(case)]
    for op in ("upsample_conv", "conv_pool"):
        for ndim in (1, 2, 3):
            drawn_here = [case for case in cases if (case.op, case.ndim) == (op, ndim)]
            ran = [case for case in accepted if (case.op, case.ndim) == (op, ndim)]
            assert len(drawn_here) >= 30 and len(ran) >= len(drawn_here) // 2, (op, ndim, len(drawn_here), len(ran))
    for op in ("upsample_conv", "conv_pool"):
        mine = [cfg for cfg in accepted if cfg.op == op]
        seen = lambda f: {f(cfg) for cfg in mine}  # noqa: E731
        assert seen(lambda c: c.kwargs["padding_mode"]) == set(PADDING_MODES)
        assert seen(
            lambda c: (
                type(c.kwargs["padding"]).__name__ if not isinstance(c.kwargs["padding"], str) else c.kwargs["padding"]
            )
        ) == {"int", "tuple", "same", "valid"}
        assert seen(lambda c: "dw" if c.kwargs["groups"] == c.input_shape[1] > 1 else c.kwargs["groups"]) >= {
            1,
            2,
            "dw",
        }
        assert seen(lambda c: c.bias) == {True, False}
        assert seen(lambda c: c.input_shape[0]) == {1, 2, 3}
        assert {1, 2} <= seen(lambda c: min(c.input_shape[2:])) and seen(lambda c: max(c.input_shape[2:]) % 2) == {0, 1}
        assert seen(lambda c: max(each_axis(c.kwargs["dilation"], c.ndim))) >= {1, 2, 3}
    ups = [cfg for cfg in accepted if cfg.op == "upsample_conv"]
    assert {(c.kwargs["mode"].replace("bi", "").replace("tri", ""), c.kwargs["align_corners"]) for c in ups} == {
        ("nearest", None), ("nearest-exact", None), ("linear", None), ("linear", False), ("linear", True)}  # fmt: skip
    assert {s for c in ups for s in each_axis(c.kwargs["scale_factor"], c.ndim)} >= {1, 2, 3, 4}
    assert any(isinstance(c.kwargs["scale_factor"], tuple) and len(set(c.kwargs["scale_factor"])) > 1 for c in ups)
    pools = [cfg for cfg in accepted if cfg.op == "conv_pool"]
    assert {s for c in pools for s in each_axis(c.kwargs["stride"], c.ndim)} == {1, 2, 3}
    assert {p for c in pools for p in each_axis(c.kwargs["pool_size"], c.ndim)} == {1, 2, 3}


@pytest.mark.parametrize("algorithm", FAST)
def test_every_fast_algorithm_declares_every_dtype(algorithm):
    """The family's generator reaches each algorithm in each dtype the family is tested in (so
    that ``tests/test_algorithms.py`` draws its cases there)."""
    assert all(TESTS.declares(algorithm, dtype) for dtype in TESTS.dtypes)


def test_calls_the_definition_refuses_are_refused():
    """Where PyTorch's composition refuses a call (reflect padding as wide as the signal, a kernel
    longer than the padded input, ``"same"`` with a stride), every algorithm raises a ValueError
    instead of returning numbers."""
    refused = [case for case in TESTS.random_cases(3, 150) if not TESTS.testable(case)]
    assert len(refused) >= 10
    for index, case in enumerate(refused):
        x, w, b = case.tensors(F64, seed=index)
        for algorithm in ALGORITHMS:
            with pytest.raises(ValueError):
                fused(case.op, case.ndim)(x, w, b, **case.kwargs, algorithm=algorithm)


def test_forcing_an_unable_algorithm_says_why():
    """Forcing an algorithm that declares it cannot run a call raises ``NoAlgorithmError`` with
    its reasons."""
    forced = 0
    for index, case in enumerate(TESTS.random_cases(4, 200)):
        if not TESTS.testable(case):
            continue
        x, w, b = case.tensors(F64, seed=index)
        for algorithm, reasons in TESTS.unable(case, F64).items():
            if reasons:
                with pytest.raises(tconv.NoAlgorithmError) as info:
                    fused(case.op, case.ndim)(x, w, b, **case.kwargs, algorithm=algorithm)
                assert all(reason in str(info.value) for reason in reasons), str(info.value)
                forced += 1
    assert forced >= 50


# --------------------------------------------------------------------------------------------
# hand-picked configurations: borders that are easy to get wrong
# --------------------------------------------------------------------------------------------

HAND_PICKED = [
    # size-1 and size-2 inputs with every mode, reflect needs upsampled size > pad
    Case(
        "upsample_conv",
        1,
        (1, 1, 1),
        (1, 1, 3),
        True,
        dict(scale_factor=2, mode="linear", padding=1, padding_mode="reflect"),
    ),
    Case(
        "upsample_conv",
        1,
        (2, 2, 2),
        (2, 1, 4),
        False,
        dict(scale_factor=3, mode="nearest-exact", padding="same", groups=2, padding_mode="circular"),
    ),
    Case(
        "upsample_conv",
        2,
        (1, 3, 2, 1),
        (6, 1, 3, 2),
        True,
        dict(scale_factor=(1, 4), mode="bilinear", padding=(2, 1), dilation=(1, 2), groups=3, padding_mode="replicate"),
    ),
    Case(
        "upsample_conv",
        2,
        (2, 2, 5, 4),
        (3, 2, 4, 4),
        True,
        dict(scale_factor=2, mode="bilinear", align_corners=False, padding="same", dilation=3, padding_mode="reflect"),
    ),
    Case(
        "upsample_conv",
        2,
        (1, 2, 3, 3),
        (2, 2, 2, 3),
        False,
        dict(scale_factor=(3, 2), mode="nearest", padding="valid", padding_mode="zeros"),
    ),
    Case(
        "upsample_conv",
        3,
        (1, 2, 2, 1, 3),
        (2, 1, 2, 3, 1),
        True,
        dict(scale_factor=(2, 3, 1), mode="trilinear", padding=1, groups=2, padding_mode="circular"),
    ),
    Case(
        "upsample_conv",
        3,
        (1, 1, 3, 2, 2),
        (1, 1, 3, 3, 3),
        False,
        dict(scale_factor=2, mode="nearest", padding="same", dilation=(1, 2, 1), padding_mode="reflect"),
    ),
    # scale 1 (the identity upsample) and an integral float scale
    Case(
        "upsample_conv",
        2,
        (1, 2, 4, 5),
        (2, 2, 3, 3),
        True,
        dict(scale_factor=1, mode="bilinear", padding=1, padding_mode="reflect"),
    ),
    Case(
        "upsample_conv",
        1,
        (1, 2, 5),
        (3, 2, 2),
        True,
        dict(scale_factor=2.0, mode="linear", align_corners=False, padding=3),
    ),
    # conv_pool: the pool cuts off a ragged end; stride and pool differ per axis
    Case(
        "conv_pool",
        1,
        (2, 2, 11),
        (2, 1, 3),
        True,
        dict(stride=2, pool_size=3, padding=1, groups=2, padding_mode="reflect"),
    ),
    Case(
        "conv_pool",
        2,
        (1, 3, 9, 7),
        (3, 1, 2, 3),
        True,
        dict(stride=(1, 2), pool_size=(3, 2), padding="valid", dilation=(2, 1), groups=3, padding_mode="circular"),
    ),
    Case(
        "conv_pool",
        2,
        (1, 2, 8, 8),
        (4, 2, 4, 4),
        False,
        dict(stride=1, pool_size=2, padding="same", dilation=2, padding_mode="replicate"),
    ),
    Case(
        "conv_pool",
        2,
        (2, 1, 5, 6),
        (2, 1, 3, 3),
        True,
        dict(stride=3, pool_size=1, padding=(3, 0), padding_mode="zeros"),
    ),
    Case(
        "conv_pool",
        3,
        (1, 2, 6, 5, 4),
        (2, 2, 3, 2, 1),
        True,
        dict(stride=(2, 1, 1), pool_size=(1, 2, 3), padding=1, padding_mode="reflect"),
    ),
]


@pytest.mark.parametrize("case", HAND_PICKED, ids=[f"{c.op}{c.ndim}d-{i}" for i, c in enumerate(HAND_PICKED)])
def test_hand_picked_borders(case):
    """Every algorithm that declares it runs the call equals the definition in float64 (forward
    and gradients); ``auto`` and ``naive`` always run it."""
    assert TESTS.testable(case), f"test bug: the definition refuses {case}"
    reasons = TESTS.unable(case, F64)
    ran = []
    for algorithm in ALGORITHMS:
        if reasons.get(algorithm):
            continue
        comparison = compare_with_reference(case, algorithm, F64)
        assert comparison.passed, str(comparison)
        ran.append(algorithm)
    assert {"auto", "naive"} <= set(ran)


# --------------------------------------------------------------------------------------------
# auto, the forcible reference algorithm
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", TESTS.dtypes, ids=str)
def test_auto_in_every_dtype(dtype):
    """``auto`` (whichever algorithm it takes) on random calls, in each layout and mode."""
    for index, case in enumerate(drawn("auto", 40, "auto", dtype)):
        comparison = compare_with_reference(case, "auto", dtype, seed=index, **TESTS.variant(index))
        assert comparison.passed, str(comparison)


@pytest.mark.parametrize("dtype", TESTS.dtypes, ids=str)
def test_the_reference_algorithm(dtype):
    """Forced, ``reference`` (the plain composition in float64, from the plan) returns the input
    dtype and equals the definition to the rounding of its result."""
    for index, case in enumerate(drawn("reference", 12, "reference", dtype)):
        x, w, b = case.tensors(dtype, seed=index)
        assert fused(case.op, case.ndim)(x, w, b, **case.kwargs, algorithm="reference").dtype == dtype
        comparison = compare_with_reference(case, "reference", dtype, seed=index)
        assert comparison.passed, str(comparison)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_conv_pool3d_half_precision_border_strips(padding_mode, dtype):
    """torch has no half-precision avg_pool3d on CPU (``naive`` says so), but the composed
    algorithm needs none: one strided convolution plus border strips, in every padding_mode;
    ``auto`` takes it."""
    case = Case(
        "conv_pool", 3, (1, 1, 6, 6, 6), (1, 1, 3, 3, 3), False, dict(pool_size=2, padding=1, padding_mode=padding_mode)
    )
    assert TESTS.unable(case, dtype)["naive"]
    for algorithm in ("composed", "auto"):
        comparison = compare_with_reference(case, algorithm, dtype)
        assert comparison.passed, str(comparison)


# --------------------------------------------------------------------------------------------
# layouts: unbatched, non-contiguous, inference in halves
# --------------------------------------------------------------------------------------------


def _against_definition(case, tensors, algorithm, *, seed, gradients=True, label=""):
    def run(x, w, b):
        return fused(case.op, case.ndim)(x, w, b, **case.kwargs, algorithm=algorithm)

    def definition(x, w, b):
        return reference.fused(case.op, x, w, b, **case.kwargs)

    comparison = error_against_reference(
        run, definition, tensors, F64, seed=seed, gradients=gradients, terms=terms(case), label=f"{label} {case}"
    )
    assert comparison.passed, str(comparison)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unbatched_input(algorithm):
    """``(C, *spatial)`` input, as ``F.convNd`` takes it: the output has no batch axis."""
    for index, case in enumerate(drawn(algorithm, 6, "unbatched")):
        case = dataclasses.replace(case, input_shape=case.input_shape[1:])
        x, w, b = case.tensors(F64, seed=index, requires_grad=True)
        out = fused(case.op, case.ndim)(x, w, b, **case.kwargs, algorithm=algorithm)
        assert out.dim() == case.ndim + 1 and out.shape[0] == w.shape[0], str(case)
        _against_definition(case, (x, w, b), algorithm, seed=index, label=f"{algorithm} unbatched")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_non_contiguous_tensors(algorithm):
    """Input and weight that are transposed views (strides not in row-major order)."""
    for index, case in enumerate(drawn(algorithm, 6, "non-contiguous", ndim=2)):
        x, w, b = case.tensors(F64, seed=index)
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2).requires_grad_()
        w = w.transpose(-1, -2).contiguous().transpose(-1, -2).requires_grad_()
        b = None if b is None else b.requires_grad_()
        assert min(case.input_shape[-2:]) == 1 or not x.is_contiguous()
        _against_definition(case, (x, w, b), algorithm, seed=index, label=f"{algorithm} non-contiguous")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_inference_in_batch_halves(algorithm):
    """Without gradients, CPU upsampling runs its batch in halves written into the output."""
    for index, case in enumerate(drawn(algorithm, 6, "inference", gradients=False)):
        case = dataclasses.replace(case, input_shape=(3, *case.input_shape[1:]))
        with torch.no_grad():
            _against_definition(
                case,
                case.tensors(F64, seed=index),
                algorithm,
                seed=index,
                gradients=False,
                label=f"{algorithm} inference",
            )


GRADCHECK = [
    Case(
        "upsample_conv",
        2,
        (1, 2, 2, 3),
        (2, 1, 3, 2),
        True,
        dict(scale_factor=(2, 3), mode="bilinear", padding=1, groups=2, padding_mode="reflect"),
    ),
    Case(
        "upsample_conv",
        1,
        (2, 1, 3),
        (2, 1, 3),
        True,
        dict(scale_factor=2, mode="nearest", padding="same", dilation=2, padding_mode="circular"),
    ),
    Case(
        "conv_pool",
        2,
        (1, 2, 6, 5),
        (2, 2, 2, 3),
        True,
        dict(stride=(2, 1), pool_size=2, padding=1, padding_mode="replicate"),
    ),
]


@pytest.mark.parametrize("algorithm", ["auto", "composed"])
@pytest.mark.parametrize("cfg", GRADCHECK, ids=[f"{c.op}{c.ndim}d" for c in GRADCHECK])
def test_gradcheck(cfg, algorithm):
    x, w, b = cfg.tensors(seed=3, requires_grad=True)
    run = lambda x, w, b: fused(cfg.op, cfg.ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)  # noqa: E731
    assert torch.autograd.gradcheck(run, (x, w, b))


def test_weight_and_bias_without_grad():
    """Only the input requires grad (a frozen layer): gradients still flow to it."""
    case = HAND_PICKED[3]
    x, w, b = case.tensors(seed=1)
    x.requires_grad_()
    out = tconv.upsample_conv2d(x, w, b, **case.kwargs, algorithm="composed")
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    x2 = x.detach().requires_grad_()
    (expected,) = torch.autograd.grad(reference.fused(case.op, x2, w, b, **case.kwargs).square().sum(), x2)
    assert_within(grad, expected, F64, terms(case), "input gradient of a frozen layer")


# --------------------------------------------------------------------------------------------
# argument handling
# --------------------------------------------------------------------------------------------


def test_integral_float_scale_and_defaults():
    x, w = torch.randn(1, 2, 3, 4, dtype=F64), torch.randn(3, 2, 3, 3, dtype=F64)
    base = tconv.upsample_conv2d(x, w, None, 2)
    up = Case("upsample_conv", 2, tuple(x.shape), tuple(w.shape), False, {})
    assert_within(base, F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w), F64, terms(up))
    assert torch.equal(tconv.upsample_conv2d(x, w, scale_factor=2.0), base)  # the same call, spelled otherwise
    assert torch.equal(tconv.upsample_conv2d(x, w, scale_factor=(2.0, 2)), base)
    pool = Case("conv_pool", 2, (1, 2, 6, 8), tuple(w.shape), False, {})
    y = tconv.conv_pool2d(x.repeat(1, 1, 2, 2), w)  # defaults: stride 1, padding 0, pool_size 2
    assert_within(y, F.avg_pool2d(F.conv2d(x.repeat(1, 1, 2, 2), w), 2), F64, terms(pool))


X1, W1 = torch.randn(1, 2, 5), torch.randn(2, 2, 3)
X2, W2 = torch.randn(1, 4, 5, 5), torch.randn(4, 4, 3, 3)


def _up2(*a, **k):
    return tconv.upsample_conv2d(*a, **k)


def _cp2(*a, **k):
    return tconv.conv_pool2d(*a, **k)


def _up1(*a, **k):
    return tconv.upsample_conv1d(*a, **k)


ERRORS = [
    # scale_factor
    (lambda: _up2(X2, W2, scale_factor=1.5), ValueError, "scale_factor"),
    (lambda: _up2(X2, W2, scale_factor=(2, 1.5)), ValueError, "scale_factor"),
    (lambda: _up2(X2, W2, scale_factor=0), ValueError, "scale_factor"),
    (lambda: _up2(X2, W2, scale_factor=-2), ValueError, "scale_factor"),
    (lambda: _up2(X2, W2, scale_factor=(2, 2, 2)), (TypeError, ValueError), "scale_factor"),
    (lambda: _up1(X1, W1, scale_factor=0.5), ValueError, "scale_factor"),
    # mode and align_corners
    (lambda: _up2(X2, W2, mode="bicubic"), ValueError, "mode"),
    (lambda: _up2(X2, W2, mode="linear"), ValueError, "mode"),
    (lambda: _up1(X1, W1, mode="bilinear"), ValueError, "mode"),
    (lambda: _up2(X2, W2, mode="area"), ValueError, "mode"),
    (lambda: _up2(X2, W2, mode="nearest", align_corners=True), ValueError, "align_corners"),
    (lambda: _up2(X2, W2, mode="nearest-exact", align_corners=False), ValueError, "align_corners"),
    # padding and padding_mode
    (lambda: _up2(X2, W2, padding="full"), ValueError, "padding"),
    (lambda: _up2(X2, W2, padding=-1), ValueError, "padding"),
    (lambda: _up2(X2, W2, padding=(1, 1, 1)), ValueError, "padding"),
    (lambda: _cp2(X2, W2, padding=(1, -1)), ValueError, "padding"),
    (lambda: _up2(X2, W2, padding_mode="constant"), ValueError, "padding_mode"),
    (lambda: _cp2(X2, W2, padding_mode="mirror"), ValueError, "padding_mode"),
    (lambda: _up1(torch.randn(1, 2, 1), W1, scale_factor=1, padding=1, padding_mode="reflect"), ValueError, "padding"),
    (lambda: _cp2(torch.randn(1, 4, 3, 3), W2, padding=3, padding_mode="reflect"), ValueError, "padding"),
    (lambda: _up1(torch.randn(1, 2, 1), W1, scale_factor=1, padding=2, padding_mode="circular"), ValueError, "padding"),
    # pool_size, stride, dilation
    (lambda: _cp2(X2, W2, pool_size=0), ValueError, "pool_size"),
    (lambda: _cp2(X2, W2, pool_size=(2, 2, 2)), ValueError, "pool_size"),
    (lambda: _cp2(X2, W2, pool_size=1.5), (TypeError, ValueError), "pool_size"),
    (lambda: _cp2(X2, W2, stride=0), ValueError, "stride"),
    (lambda: _cp2(X2, W2, dilation=0), ValueError, "dilation"),
    (lambda: _up2(X2, W2, dilation=(1, 0)), ValueError, "dilation"),
    # groups, shapes, bias, dtype
    (lambda: _up2(X2, W2, groups=0), ValueError, "groups"),
    (lambda: _up2(X2, torch.randn(3, 2, 3, 3), groups=2), ValueError, "groups|weight"),  # out_channels 3 % 2
    (lambda: _cp2(X2, W2, groups=3), ValueError, "groups|input"),
    (lambda: _up2(X2, torch.randn(4, 2, 3)), ValueError, "weight"),
    (lambda: _up2(torch.randn(1, 2, 4, 5, 5), W2), ValueError, "input"),
    (lambda: _cp2(torch.randn(4, 5), W2), ValueError, "input"),
    (lambda: _up2(torch.randn(1, 3, 5, 5), W2), ValueError, "input|weight"),
    (lambda: _up2(X2, W2, torch.randn(3)), ValueError, "bias"),
    (lambda: _cp2(X2, W2, torch.randn(4, 1)), ValueError, "bias"),
    (lambda: _up2(X2, W2.double()), TypeError, ""),
    (lambda: _cp2(X2.double(), W2), TypeError, ""),
    # empty output: torch refuses, so must tconv
    (lambda: _cp2(torch.randn(1, 4, 2, 2), W2), ValueError, ""),
    (lambda: _cp2(torch.randn(1, 4, 4, 4), W2, pool_size=3), ValueError, ""),
    (lambda: _cp2(torch.randn(1, 4, 5, 5), W2, stride=2, padding="same"), ValueError, "padding|stride"),
    (lambda: _up1(torch.randn(1, 2, 1), torch.randn(2, 2, 4), scale_factor=2), ValueError, ""),
    # algorithm
    (lambda: _up2(X2, W2, algorithm="bogus"), ValueError, "algorithm|bogus"),
]


@pytest.mark.parametrize("call, error, match", ERRORS, ids=[f"error-{i:02d}" for i in range(len(ERRORS))])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match or None):
        call()


def test_composed_cannot_run_align_corners():
    case = Case(
        "upsample_conv",
        2,
        (1, 2, 4, 4),
        (3, 2, 3, 3),
        False,
        dict(scale_factor=2, mode="bilinear", align_corners=True, padding=1),
    )
    x, w, _ = case.tensors(F64)
    with pytest.raises(tconv.NoAlgorithmError) as info:
        tconv.upsample_conv2d(x, w, **case.kwargs, algorithm="composed")
    assert isinstance(info.value, ValueError) and len(str(info.value)) > 10, str(info.value)
    assert "align_corners" in str(info.value)
    # auto still answers, with the definition's numbers
    comparison = compare_with_reference(case, "auto", F64)
    assert comparison.passed, str(comparison)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [41, 47, 49])
def test_nearest_follows_pytorchs_rounded_index(scale, dtype):
    """At some large scales PyTorch's float32/double nearest index rounds to the sample before
    ``j // scale``; the fused algorithms then say so, and ``auto`` still equals PyTorch (whose
    index depends on the dtype: the composition here runs in ``dtype``)."""
    x, w = torch.randn(1, 2, 3, 3, dtype=dtype), torch.randn(2, 2, 3, 3, dtype=dtype)
    kwargs = dict(scale_factor=(1, scale), mode="nearest", padding=1)
    n_terms = terms(Case("upsample_conv", 2, tuple(x.shape), tuple(w.shape), False, kwargs))
    # nearest copies samples exactly: PyTorch's choice of sample in dtype, the sums in float64
    expected = F.conv2d(F.interpolate(x, scale_factor=(1, scale), mode="nearest").double(), w.double(), padding=1)
    assert_within(tconv.upsample_conv2d(x, w, None, **kwargs), expected, dtype, n_terms, "auto")
    reasons = tconv.explain_fused("upsample_conv", x, w, None, **kwargs).reasons
    for name in ("composed", "separable"):
        if reasons[name]:
            assert any("index rounds" in reason for reason in reasons[name])
        else:  # PyTorch's index is j // scale here: the fused algorithm must agree
            out = tconv.upsample_conv2d(x, w, None, **kwargs, algorithm=name)
            assert_within(out, expected, dtype, n_terms, name)


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
@pytest.mark.parametrize(
    "input_shape, kernel, kwargs",
    [
        ((2, 3, 16, 18), (3, 3), {"padding": 1}),
        ((2, 3, 17, 16), (3, 2), {"padding": "same", "scale_factor": (2, 1)}),
        ((3, 4, 40), (7,), {"padding": 3}),
        ((1, 2, 32, 32, 32), (3, 3, 3), {"padding": 1}),
    ],
)
def test_inference_with_the_compiled_core(input_shape, kernel, kwargs, padding_mode, compiling):
    """Nearest upsampling of large inputs in inference: the composed kernel's transposed
    convolution runs ``subpixel_compiled`` (float32: it has no word for two float64)."""
    ndim = len(kernel)
    case = Case(
        "upsample_conv", ndim, input_shape, (4, input_shape[1], *kernel), True, dict(kwargs, padding_mode=padding_mode)
    )
    x, w, b = case.tensors(torch.float32, seed=len(input_shape) + len(padding_mode))
    plan, _, _ = tconv.fused.functional.OPS["upsample_conv"].prepare(ndim, x, w, b, case.kwargs)
    assert tconv.algorithms.TRANSPOSED.decide(plan.core, "auto").algorithm.name == "subpixel_compiled"
    with torch.no_grad():
        comparison = compare_with_reference(case, "composed", torch.float32, seed=len(input_shape), gradients=False)
    assert comparison.passed, str(comparison)


@pytest.fixture
def subpixel_core(monkeypatch):
    """The transposed convolutions prefer ``subpixel`` (whose phase weight the composed kernel
    folds into) within this test."""
    dispatcher = tconv.algorithms.TRANSPOSED
    preference = dispatcher.preference
    monkeypatch.setattr(dispatcher, "preference", lambda plan: ("subpixel", *preference(plan)))
    tconv.core.dispatch.forget_decisions()
    yield
    tconv.core.dispatch.forget_decisions()


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_the_subpixel_core_takes_the_folded_phase_weight(ndim, subpixel_core):
    """Every upsampling the composed kernel runs, through ``subpixel`` with the conv kernel folded
    straight into its phase weight: forward and gradients equal the definition."""
    ran = 0
    for index, case in enumerate(drawn("composed", 12, "subpixel-core", op="upsample_conv", ndim=ndim)):
        x, w, b = case.tensors(F64, seed=index)
        plan, _, _ = tconv.fused.functional.OPS["upsample_conv"].prepare(ndim, x, w, b, case.kwargs)
        ran += (
            plan.core is not None and tconv.algorithms.TRANSPOSED.decide(plan.core, "auto").algorithm.name == "subpixel"
        )
        comparison = compare_with_reference(case, "composed", F64, seed=index)
        assert comparison.passed, str(comparison)
    assert ran >= 6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize(
    "input_shape, out_channels, kernel, kwargs",
    [
        ((2, 16, 12, 10), 8, (3, 3), {"padding": 1}),
        ((2, 16, 9, 8), 6, (3, 2), {"padding": "same", "scale_factor": (2, 1)}),
        ((2, 32, 8, 6), 8, (3, 3), {"padding": 1, "groups": 2, "padding_mode": "reflect"}),
        ((3, 16, 20), 4, (3,), {"padding": 1, "scale_factor": 4}),
        ((3, 16, 21), 4, (5,), {"padding": 3, "dilation": 2, "padding_mode": "circular"}),
        ((1, 16, 4, 6, 8), 4, (3, 3, 3), {"padding": 1, "padding_mode": "replicate"}),
        ((0, 16, 8, 8), 4, (3, 3), {"padding": 1}),
    ],
)
def test_factored_inference_with_compiled_sums(input_shape, out_channels, kernel, kwargs, dtype, compiling):
    """CPU inference with compiling on: ``factored`` sums its phases in a compiled pass (where a
    word holds the innermost scale's samples; eagerly otherwise and for an empty batch), equal to
    the definition in every padding mode, 1-3 d."""
    groups = kwargs.get("groups", 1)
    case = Case(
        "upsample_conv", len(kernel), input_shape, (out_channels, input_shape[1] // groups, *kernel), True, kwargs
    )
    if not input_shape[0]:  # an empty batch: the right empty shape
        x, w, b = case.tensors(dtype)
        with torch.no_grad():
            out = fused("upsample_conv", case.ndim)(x, w, b, **kwargs, algorithm="factored")
        assert out.dtype == dtype and out.shape == reference.fused(case.op, x, w, b, **kwargs).shape
        return
    with torch.no_grad():
        comparison = compare_with_reference(case, "factored", dtype, seed=sum(input_shape), gradients=False)
    assert comparison.passed, str(comparison)


def test_factored_is_chosen_where_it_mixes_the_channels_less(compiling):
    """``auto`` runs ``factored`` for 2-d nearest ×2 + 3×3 conv in CPU inference where composed's
    convolution would be compute-bound or native; not with gradients, depthwise, in 3-d, or for a
    kernel whose taps nearly fill the phases (1-d k7)."""

    def chosen(input_shape, out_channels, kernel, groups=1, requires_grad=False):
        x = torch.randn(input_shape, requires_grad=requires_grad)
        w = torch.randn(out_channels, input_shape[1] // groups, *kernel)
        padding = kernel[0] // 2
        return tconv.explain_fused("upsample_conv", x, w, None, padding=padding, groups=groups).algorithm.name

    assert chosen((8, 128, 16, 16), 128, (3, 3)) == "factored"
    assert chosen((8, 64, 32, 32), 64, (3, 3)) == "factored"
    assert chosen((8, 128, 8, 8), 64, (3, 3)) == "factored"  # composed's core would run native
    assert chosen((8, 64, 8, 8), 64, (3, 3)) == "naive"  # few samples, little work: fixed costs dominate
    assert chosen((4, 256, 4, 4), 128, (3, 3)) == "naive"
    assert chosen((1, 64, 32, 32), 64, (3, 3)) == "composed"  # too little work
    assert chosen((2, 32, 8, 16, 16), 32, (3, 3, 3)) == "composed"
    assert chosen((8, 128, 16, 16), 128, (3, 3), requires_grad=True) == "composed"
    assert chosen((8, 64, 32, 32), 64, (3, 3), groups=64) == "composed"
    assert chosen((4, 128, 2048), 128, (7,)) == "composed"
    tconv.set_compile(False)
    assert chosen((8, 128, 16, 16), 128, (3, 3)) == "composed"
