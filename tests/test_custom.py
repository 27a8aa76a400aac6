"""Custom convolutions: the definition, and what the random tests of every algorithm cannot show.

Every algorithm is compared with :func:`tconv.custom.reference.custom_conv_reference` (the
definition written index by index in float64, importing nothing from tconv) on random problems of
:mod:`tconv.custom.testing` by ``tests/test_algorithms.py``. Here: the reference itself is checked
against PyTorch (``nn.ConvNd`` for ``mul``/``sum``, every padding and ``padding_mode``) and against
``F.unfold`` by hand for every preset pair; ``"same"`` with an odd total puts the odd sample at
the end in every algorithm; the random problems cover the space; and the specifics: ``mul``/``sum``
is ``F.convNd`` bit for bit, ties and kinks, compiling, chunks and memory, layouts, callables, and
bad input.
"""

from __future__ import annotations

import ast
import math
import random
import warnings

import pytest
import torch
import torch.nn.functional as F

import tconv
import tconv.core.compiling
import tconv.custom.reference
from tconv import bench
from tconv.core.plan import PADDING_MODES
from tconv.core.testing import conv_terms, error_against_reference
from tconv.custom import testing
from tconv.custom.plan import COMBINES, REDUCES, plan_custom_conv
from tconv.custom.reference import custom_conv_reference
from tconv.custom.testing import Case, compare_with_reference, random_cases

CUSTOM = {1: tconv.custom_conv1d, 2: tconv.custom_conv2d, 3: tconv.custom_conv3d}
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONFIGS = random_cases(2026, 240)


def test_random_configs_cover_the_space():
    seen = lambda f: {f(cfg) for cfg in CONFIGS}  # noqa: E731
    name = lambda v: v.__name__ if callable(v) else v  # noqa: E731
    assert seen(lambda c: name(c.kwargs["combine"])) >= {
        *COMBINES,
        None,
        *(f.__name__ for f in testing.COMBINE_CALLABLES),
    }
    assert seen(lambda c: name(c.kwargs["reduce"])) >= {*REDUCES, *(f.__name__ for f in testing.REDUCE_CALLABLES)}
    assert seen(lambda c: c.kwargs["padding_mode"]) == set(PADDING_MODES)
    assert seen(lambda c: c.ndim) == {1, 2, 3}
    assert seen(lambda c: "dw" if c.kwargs["groups"] == c.input_shape[1] > 1 else c.kwargs["groups"]) >= {1, 2, "dw"}
    # budgets that split the batch, a spatial axis and the output channels all occur
    splits = set()
    for cfg in CONFIGS:
        x, w, _ = cfg.tensors()
        plan = _plan(cfg, x, w)
        chunks = plan.chunks(8)
        splits |= {"batch"} if len({c.batch for c in chunks}) > 1 else set()
        splits |= {"positions"} if len({c.out for c in chunks}) > 1 else set()
        splits |= {"channels"} if len({c.channels for c in chunks}) > 1 else set()
    assert splits == {"batch", "positions", "channels"}


def _plan(cfg: Case, x: torch.Tensor, w: torch.Tensor):
    return plan_custom_conv(tuple(x.shape), tuple(w.shape), **cfg.kwargs, dtype=x.dtype)


# --------------------------------------------------------------------------------------------
# the definition: its own code, checked against F.convNd (nn.ConvNd) and F.unfold by hand
# --------------------------------------------------------------------------------------------


def test_the_reference_imports_nothing_from_tconv():
    """The definition shares nothing with the code under test but the public arguments."""
    tree = ast.parse(open(tconv.custom.reference.__file__).read())
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += ["." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    allowed = {"__future__", "itertools", "math", "typing", "torch"}
    assert imported and all(name.split(".")[0] in allowed for name in imported), imported


def _torch_module(cfg: Case) -> torch.nn.Module:
    """``nn.ConvNd`` with ``cfg``'s arguments (its own padding rule and ``padding_mode``)."""
    kw = cfg.kwargs
    return getattr(torch.nn, f"Conv{cfg.ndim}d")(
        cfg.input_shape[1],
        cfg.weight_shape[0],
        cfg.weight_shape[2:],
        stride=kw["stride"],
        padding=kw["padding"],
        dilation=kw["dilation"],
        groups=kw["groups"],
        bias=cfg.bias,
        padding_mode=kw["padding_mode"],
        dtype=torch.float64,
    )


MUL_SUM = random_cases(1917, 120)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize(
    "index, cfg", list(enumerate(MUL_SUM)), ids=[f"{c.ndim}d-{i:03d}" for i, c in enumerate(MUL_SUM)]
)
def test_reference_mul_sum_is_torch_conv(index, cfg):
    """``mul``/``sum``: the reference equals ``nn.ConvNd`` (float64), output and gradients, on
    random problems with every padding kind and ``padding_mode``."""
    module = _torch_module(cfg)
    public = {k: v for k, v in cfg.kwargs.items() if k not in ("combine", "reduce", "max_memory")}

    def torch_conv(x, w, b):
        parameters = {"weight": w} if b is None else {"weight": w, "bias": b}
        return torch.func.functional_call(module, parameters, (x,))

    def reference(x, w, b):
        return custom_conv_reference(x, w, b, **public, combine="mul", reduce="sum")

    tensors = cfg.tensors(torch.float64, seed=index, requires_grad=True)
    expected = torch_conv(*tensors)
    kernel, sizes = cfg.weight_shape[2:], cfg.input_shape[2:]
    terms = conv_terms(
        cfg.input_shape[0],
        cfg.input_shape[1],
        cfg.weight_shape[0],
        cfg.kwargs["groups"],
        kernel,
        sizes,
        expected.shape[2:],
    )
    comparison = error_against_reference(
        reference, torch_conv, tensors, torch.float64, seed=index, terms=terms, label=str(cfg)
    )
    assert comparison.passed, str(comparison)


def test_reference_mul_sum_cases_cover_the_padding():
    """The cases above take every padding kind, every mode, and ``"same"`` with an odd total."""
    kind = lambda padding: padding if isinstance(padding, str) else type(padding).__name__  # noqa: E731
    paddings = {kind(c.kwargs["padding"]) for c in MUL_SUM}
    assert paddings == {"same", "valid", "int", "tuple"}
    assert {c.kwargs["padding_mode"] for c in MUL_SUM} == set(PADDING_MODES)
    odd = lambda c: any(d * (k - 1) % 2 for k, d in zip(c.weight_shape[2:], c.kwargs["dilation"]))  # noqa: E731
    assert any(c.kwargs["padding"] == "same" and odd(c) for c in MUL_SUM)


#: ``padding="same"`` whose total on some axis is odd: the odd sample goes at the end.
ODD_SAME = [
    Case(1, (2, 3, 9), (4, 3, 4), True, dict(padding="same", padding_mode="zeros")),
    Case(1, (1, 2, 8), (2, 2, 2), False, dict(padding="same", dilation=3, padding_mode="reflect")),
    Case(2, (2, 4, 7, 6), (4, 2, 2, 4), True, dict(padding="same", groups=2, padding_mode="replicate")),
    Case(2, (1, 3, 6, 7), (3, 1, 3, 2), False, dict(padding="same", groups=3, padding_mode="circular")),
    Case(3, (1, 2, 4, 5, 4), (2, 2, 2, 3, 2), True, dict(padding="same", padding_mode="zeros")),
]
ODD_SAME_PRESETS = [("mul", "sum"), ("sub", "mean"), ("abs_diff", "max"), ("sq_diff", "logsumexp")]


@pytest.mark.parametrize("combine, reduce", ODD_SAME_PRESETS)
@pytest.mark.parametrize("index, cfg", list(enumerate(ODD_SAME)), ids=str)
def test_same_puts_the_odd_sample_at_the_end(index, cfg, combine, reduce):
    """Every eager algorithm that runs the pair equals the definition, whose ``"same"`` pads as
    ``nn.ConvNd`` does (the test above)."""
    case = Case(
        cfg.ndim, cfg.input_shape, cfg.weight_shape, cfg.bias, {**cfg.kwargs, "combine": combine, "reduce": reduce}
    )
    algorithms = ["chunked", "unfold", *(["conv"] if reduce in ("sum", "mean") else [])]  # conv: the linear pairs
    for algorithm in algorithms:
        comparison = compare_with_reference(case, algorithm, torch.float64, seed=index)
        assert comparison.passed, str(comparison)


RECIPE_COMBINE = {**bench.RECIPE_COMBINE, "maximum": torch.maximum}
RECIPE_REDUCE = {**bench.RECIPE_REDUCE, "sum_of_squares": testing.sum_of_squares}


def unfold_by_hand(x, w, b, stride, padding, dilation, groups, combine, reduce):
    """The recipe of the issue, 2-d, zero padding: ``F.unfold``, broadcast over the output
    channels, combine, reduce over (channel, tap), add the bias."""
    n, (cout, cg, kh, kw) = x.shape[0], w.shape
    patches = F.unfold(x, (kh, kw), dilation, padding, stride)  # (N, C * kh * kw, L)
    patches = patches.view(n, groups, 1, cg * kh * kw, -1)
    weight = w.view(1, groups, cout // groups, cg * kh * kw, 1)
    out = RECIPE_REDUCE[reduce](RECIPE_COMBINE[combine](patches, weight), 3).flatten(1, 2)
    size = [(s + 2 * padding - dilation * (k - 1) - 1) // stride + 1 for s, k in zip(x.shape[2:], (kh, kw))]
    out = out.view(n, cout, *size)
    return out if b is None else out + b.view(1, -1, 1, 1)


@pytest.mark.parametrize("combine", [*COMBINES, "maximum"])
@pytest.mark.parametrize("reduce", [*REDUCES, "sum_of_squares"])
def test_reference_is_the_unfold_recipe(combine, reduce):
    rng = random.Random(f"{combine}{reduce}")
    for _ in range(3):
        groups = rng.choice((1, 2))
        stride, padding, dilation = rng.randint(1, 2), rng.randint(0, 2), rng.randint(1, 2)
        cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 2)
        shape = (rng.randint(1, 2), cin, rng.randint(5, 9), rng.randint(5, 9))
        cfg = Case(2, shape, (cout, cin // groups, rng.randint(1, 3), rng.randint(1, 3)), True)
        x, w, b = cfg.tensors(seed=rng.randint(0, 99), requires_grad=True)
        ours = getattr(testing, combine, combine), getattr(testing, reduce, reduce)
        arguments = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        for out in (
            custom_conv_reference(x, w, b, **arguments, combine=ours[0], reduce=ours[1]),
            tconv.custom_conv2d(x, w, b, **arguments, combine=ours[0], reduce=ours[1]),
        ):
            expected = unfold_by_hand(x, w, b, stride, padding, dilation, groups, combine, reduce)
            torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
            g = torch.randn_like(out)
            for got, want in zip(torch.autograd.grad(out, (x, w, b), g), torch.autograd.grad(expected, (x, w, b), g)):
                torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


CONV_CASES = [
    # ndim, arguments of nn.ConvNd besides channels and kernel
    (1, dict(stride=2, padding=1)),
    (2, dict(padding="same", dilation=2)),
    (2, dict(stride=(2, 1), padding=(1, 0), groups=2)),
    (2, dict(padding=1, padding_mode="reflect")),
    (2, dict(padding="same", padding_mode="circular", groups=4)),
    (3, dict(padding="valid", padding_mode="replicate")),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ndim, arguments", CONV_CASES)
def test_mul_sum_is_torch_conv_bit_for_bit(ndim, arguments, dtype):
    torch.manual_seed(0)
    conv = getattr(torch.nn, f"Conv{ndim}d")(4, 8, 3, **arguments, dtype=dtype)
    ours = getattr(tconv.nn, f"CustomConv{ndim}d")(4, 8, 3, **arguments, dtype=dtype)
    ours.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, *(9, 8, 7)[:ndim], dtype=dtype, requires_grad=True)
    expected, actual = conv(x), ours(x)
    assert torch.equal(actual, expected)
    g = torch.randn_like(expected)
    for a, e in zip(
        torch.autograd.grad(actual, (x, *ours.parameters()), g),
        torch.autograd.grad(expected, (x, *conv.parameters()), g),
    ):
        assert torch.equal(a, e)


def test_mul_sum_fast_path_refuses_what_the_planned_path_refuses():
    """``mul``/``sum`` with plain arguments calls ``F.convNd`` without planning; whatever PyTorch
    would accept but tconv refuses (bools, one int for two axes, complex) still gets tconv's error."""
    x, w = torch.randn(1, 4, 6, 6), torch.randn(2, 4, 3, 3)
    for arguments, error in [
        (dict(groups=True), TypeError),
        (dict(padding=(1,)), ValueError),
        (dict(stride=0), ValueError),
    ]:
        with pytest.raises(error):
            tconv.custom_conv2d(x, w, **arguments)
    with pytest.raises(TypeError, match="floating-point"):
        tconv.custom_conv2d(x.to(torch.complex64), w.to(torch.complex64))
    with pytest.raises(ValueError, match="input: has 4 channels"):
        tconv.custom_conv2d(x, torch.randn(2, 3, 3, 3))
    assert torch.equal(tconv.custom_conv2d(x[0], w, padding=1), F.conv2d(x[0], w, padding=1))


def test_mul_sum_picks_the_conv_algorithm():
    x, w = torch.randn(1, 4, 8, 8), torch.randn(4, 4, 3, 3)
    assert tconv.explain_custom(x, w).algorithm.name == "conv"
    assert tconv.explain_custom(x, w, combine="sub", reduce="mean").algorithm.name == "conv"
    assert tconv.explain_custom(x, w, combine="abs_diff").algorithm.name == "chunked"  # compiling is off in tests


def test_auto_compiles_when_compiling_is_on(compiling):
    x, w = torch.randn(1, 4, 8, 8), torch.randn(4, 4, 3, 3)
    assert tconv.explain_custom(x, w, combine="abs_diff").algorithm.name == "compiled"
    assert tconv.explain_custom(x, w).algorithm.name == "conv"
    tconv.set_compile(False)
    choice = tconv.explain_custom(x, w, combine="abs_diff")
    assert choice.algorithm.name == "chunked" and any("set_compile" in r for r in choice.reasons["compiled"])


# --------------------------------------------------------------------------------------------
# compiled
# --------------------------------------------------------------------------------------------


COMPILED_CASES = [
    Case(2, (2, 4, 7, 6), (6, 4, 3, 3), True, dict(padding=1, combine="abs_diff")),
    Case(
        2,
        (1, 4, 6, 7),
        (4, 2, 2, 3),
        False,
        dict(stride=2, groups=2, padding="valid", combine="add", reduce="max", padding_mode="reflect"),
    ),
    Case(
        1,
        (2, 3, 11),
        (6, 1, 4),
        True,
        dict(dilation=2, padding="same", groups=3, combine="sq_diff", reduce="logsumexp", padding_mode="circular"),
    ),
    Case(
        3,
        (1, 2, 4, 5, 4),
        (2, 2, 2, 2, 3),
        True,
        dict(padding=1, combine="sub", reduce="min", padding_mode="replicate"),
    ),
    Case(
        2,
        (2, 3, 6, 6),
        (4, 3, 3, 3),
        True,
        dict(padding=1, combine=testing.tanh_product, reduce=testing.soft_maximum, max_memory=2**12),
    ),
]


@pytest.mark.parametrize("index, cfg", list(enumerate(COMPILED_CASES)), ids=str)
def test_compiled_equals_reference(index, cfg, compiling):
    comparison = compare_with_reference(cfg, "compiled", torch.float32, seed=index)
    assert comparison.passed, str(comparison)


def test_compiling_under_warnings_as_errors_and_inference_mode(compiling):
    """The compiler's own notices (deprecations, dynamo's) must not make a compile fail."""
    x, w = torch.randn(2, 3, 7, 5), torch.randn(4, 3, 2, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.inference_mode():
            tconv.custom_conv2d(x, w, padding=1, combine="sq_diff", reduce="min")
        tconv.custom_conv2d(x, w, padding=1, combine="sq_diff", reduce="min").sum().backward()
    assert tconv.explain_custom(x, w, padding=1, combine="sq_diff", reduce="min").algorithm.name == "compiled"


def test_compiling_that_fails_runs_eagerly_and_is_declined(monkeypatch, compiling):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(tconv.core.compiling, "_failed", {})
    monkeypatch.setattr(torch._inductor, "compile", broken)
    x, w = torch.randn(1, 3, 9, 5, dtype=torch.float64), torch.randn(5, 3, 2, 2, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="no compiler here"):
        out = tconv.custom_conv2d(x, w, combine="abs_diff", algorithm="compiled")
    torch.testing.assert_close(out, tconv.custom_conv2d(x, w, combine="abs_diff", algorithm="reference"))
    choice = tconv.explain_custom(x, w, combine="abs_diff")
    assert choice.algorithm.name == "chunked"
    reasons = choice.reasons["compiled"]
    assert any("no compiler here" in reason for reason in reasons)


# --------------------------------------------------------------------------------------------
# max and min: ties and the subgradient
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["chunked", "unfold", "reference"])
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_ties_send_the_gradient_to_the_first_pair_tap_major(reduce, algorithm):
    """All combined values equal: each output's gradient goes to its window's first tap, first
    channel (the order of the documentation: taps first, then channels within a tap)."""
    x = torch.ones(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.zeros(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    out = tconv.custom_conv2d(x, w, combine="add", reduce=reduce, algorithm=algorithm)
    gx, gw = torch.autograd.grad(out, (x, w), torch.ones_like(out))
    expected_gx = torch.zeros_like(x)
    expected_gx[0, 0, :3, :3] = 3  # every window's first tap, channel 0, from three output channels
    expected_gw = torch.zeros_like(w)
    expected_gw[:, 0, 0, 0] = 9  # nine positions
    assert torch.equal(gx, expected_gx) and torch.equal(gw, expected_gw)


@pytest.mark.parametrize("algorithm", ["chunked", "unfold", "reference"])
def test_abs_diff_at_equal_values_takes_slope_minus_one(algorithm):
    x = torch.ones(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.ones(4, 2, 2, 2, dtype=torch.float64, requires_grad=True)
    out = tconv.custom_conv2d(x, w, combine="abs_diff", algorithm=algorithm)
    gx, gw = torch.autograd.grad(out, (x, w), torch.ones_like(out))
    windows = torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64)  # windows covering each sample
    assert torch.equal(gx, -4 * windows.expand_as(gx)) and torch.equal(gw, torch.full_like(w, 4.0))


def test_max_without_ties_has_the_gradient_of_the_winner():
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    for reduce in ("max", "min", "logsumexp"):
        f = lambda x, w: tconv.custom_conv2d(x, w, padding=1, combine="sq_diff", reduce=reduce)  # noqa: E731
        assert torch.autograd.gradcheck(f, (x, w))


# --------------------------------------------------------------------------------------------
# chunks and memory
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_memory", [2**10, 2**12, 2**14, 2**16, 2**30])
def test_chunks_tile_the_output_once_within_the_budget(max_memory):
    plan = plan_custom_conv(
        (3, 4, 9, 7), (6, 2, 3, 2), groups=2, padding=1, combine="abs_diff", max_memory=max_memory, dtype=torch.float32
    )
    chunks = plan.chunks(4)
    covered = torch.zeros(plan.output_shape[0], *plan.output_size, plan.out_channels // plan.groups, dtype=torch.int32)
    for c in chunks:
        covered[(slice(*c.batch), *(slice(*r) for r in c.out), slice(*c.channels))] += 1
        positions = (c.batch[1] - c.batch[0]) * (c.channels[1] - c.channels[0])
        for begin, end in c.out:
            positions *= end - begin
        assert positions * plan.groups * plan.fan_in * 4 * 3 <= max_memory
    assert torch.equal(covered, torch.ones_like(covered))
    assert len(chunks) == 1 or max_memory < 2**30


def test_a_budget_too_small_for_one_position_is_refused():
    x, w = torch.randn(1, 8, 5, 5), torch.randn(4, 8, 3, 3)
    with pytest.raises(ValueError, match="max_memory: 100 bytes cannot hold one output position"):
        tconv.custom_conv2d(x, w, combine="abs_diff", max_memory=100)


def _peak_mib(fn) -> float:
    return bench._peak_mib(bench.Settings(), fn)


X_SHAPE, W_SHAPE, BUDGET = (2, 16, 16, 16), (16, 16, 3, 3), 2**20
# what besides the intermediates a call may hold: the input, weight, their gradients, the output
# and its gradient, the padded input and its gradient
TENSORS = 4 * 2 * (math.prod(X_SHAPE) + math.prod(W_SHAPE) + 2 * 16 * 16 * 16 + 2 * 18 * 18 * 16)


def _forward_backward_peak(combine, reduce, algorithm):
    x, w = torch.randn(X_SHAPE, requires_grad=True), torch.randn(W_SHAPE, requires_grad=True)

    def call():
        out = tconv.custom_conv2d(
            x, w, padding=1, combine=combine, reduce=reduce, max_memory=BUDGET, algorithm=algorithm
        )
        torch.autograd.grad(out, (x, w), torch.ones_like(out))

    call()  # compiles, where it does
    return bench._peak_mib(bench.Settings(), call)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("combine", [c for c in COMBINES if c != "mul"])
def test_peak_memory_stays_within_the_budget(combine, reduce):
    """The intermediates of forward and backward stay within ``max_memory``, for every preset
    pair (``mul`` equals ``sub`` here)."""
    peak = _forward_backward_peak(combine, reduce, "chunked")
    assert peak <= (BUDGET + TENSORS) / 2**20, f"peak {peak:.2f} MiB for a budget of {BUDGET / 2**20} MiB"


@pytest.mark.parametrize("combine, reduce", [("abs_diff", "sum"), ("add", "max"), ("mul", "logsumexp")])
def test_compiled_peak_memory_stays_within_the_budget(combine, reduce, compiling):
    peak = _forward_backward_peak(combine, reduce, "compiled")
    assert peak <= (BUDGET + TENSORS) / 2**20, f"peak {peak:.2f} MiB for a budget of {BUDGET / 2**20} MiB"


def test_the_recipe_takes_eight_times_the_memory():
    x, w = torch.randn(X_SHAPE, requires_grad=True), torch.randn(W_SHAPE, requires_grad=True)

    def recipe():
        out = bench.unfold_recipe(x, w, 1, bench.RECIPE_COMBINE["abs_diff"], torch.sum)
        torch.autograd.grad(out, (x, w), torch.ones_like(out))

    assert bench._peak_mib(bench.Settings(), recipe) >= 8 * _forward_backward_peak("abs_diff", "sum", "chunked")


# --------------------------------------------------------------------------------------------
# layouts, dtypes, shapes
# --------------------------------------------------------------------------------------------


ARGS = dict(stride=(1, 2), padding=1, groups=2, combine="abs_diff", reduce="max", padding_mode="reflect")


def test_channels_last_in_channels_last_out():
    x, w, b = torch.randn(2, 4, 7, 8), torch.randn(6, 2, 3, 3), torch.randn(6)
    expected = tconv.custom_conv2d(x, w, b, **ARGS)
    out = tconv.custom_conv2d(x.contiguous(memory_format=torch.channels_last), w, b, **ARGS)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_non_contiguous_operands():
    x, w = torch.randn(2, 8, 7, 4)[:, ::2].transpose(2, 3), torch.randn(2, 6, 3, 3).transpose(0, 1)
    expected = tconv.custom_conv2d(x.contiguous(), w.contiguous(), **ARGS)
    torch.testing.assert_close(tconv.custom_conv2d(x, w, **ARGS), expected, rtol=0, atol=0)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_unbatched_input(ndim):
    x, w = torch.randn(4, *(7, 6, 5)[:ndim]), torch.randn(2, 4, *(3,) * ndim)
    out = CUSTOM[ndim](x, w, padding=1, combine="sq_diff", reduce="min")
    assert torch.equal(out, CUSTOM[ndim](x[None], w, padding=1, combine="sq_diff", reduce="min")[0])


def test_callable_combine_gets_autograd():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)

    def f(x, w):
        return tconv.custom_conv2d(x, w, combine=testing.tanh_product, reduce=testing.soft_maximum, max_memory=2**9)

    assert torch.autograd.gradcheck(f, (x, w))


def test_no_gradient_needed_runs_without_autograd():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 2, 2, requires_grad=True)
    with torch.no_grad():
        assert not tconv.custom_conv2d(x, w, combine="abs_diff").requires_grad
    with torch.inference_mode():
        tconv.custom_conv2d(x, w, combine="abs_diff")


# --------------------------------------------------------------------------------------------
# bad input is answered
# --------------------------------------------------------------------------------------------


def _shape_changer(x, w):
    return (x * w).sum(-1)


def _keeps_dim(t, dim):
    return t


BAD = [
    (dict(combine="times"), ValueError, "combine: unknown preset 'times'"),
    (dict(reduce="median"), ValueError, "reduce: unknown preset 'median'"),
    (dict(combine=3), TypeError, "combine: expected a preset name"),
    (dict(combine=torch.ones(2)), TypeError, "combine: expected a preset name"),
    (dict(reduce=["sum"]), TypeError, "reduce: expected a preset name"),
    (dict(combine=_shape_changer), ValueError, "combine"),
    (dict(reduce=_keeps_dim), ValueError, "reduce"),
    (dict(max_memory=1.5), TypeError, "max_memory: expected a number of bytes"),
    (dict(max_memory=0), ValueError, "max_memory: must be a positive"),
    (dict(padding="same", stride=2), ValueError, "padding"),
    (dict(padding="full"), ValueError, "padding"),
    (dict(padding_mode="mirror"), ValueError, "padding_mode"),
    (dict(groups=3), ValueError, "groups"),
    (dict(stride=0), ValueError, "stride"),
    (dict(algorithm="fast"), ValueError, "algorithm"),
]


@pytest.mark.parametrize("arguments, error, message", BAD, ids=[str(a) for a, _, _ in BAD])
def test_bad_arguments_are_refused(arguments, error, message):
    x, w = torch.randn(1, 4, 6, 6), torch.randn(2, 4, 3, 3)
    with pytest.raises(error, match=message.replace("(", r"\(")):
        tconv.custom_conv2d(x, w, **arguments)


def test_bad_tensors_are_refused():
    x, w = torch.randn(1, 4, 6, 6), torch.randn(2, 4, 3, 3)
    with pytest.raises(TypeError, match="dtype"):
        tconv.custom_conv2d(x, w.double())
    with pytest.raises(TypeError):
        tconv.custom_conv2d(x.long(), w.long())
    with pytest.raises(ValueError, match="weight"):
        tconv.custom_conv2d(x, torch.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match="input"):
        tconv.custom_conv2d(torch.randn(1, 1, 4, 6, 6), w)
    with pytest.raises(ValueError, match="weight"):
        tconv.custom_conv2d(x, torch.randn(2, 4, 7, 3))  # kernel larger than the input
    with pytest.raises(ValueError, match="bias"):
        tconv.custom_conv2d(x, w, torch.randn(3))


def test_a_forced_algorithm_that_cannot_run_says_why():
    x, w = torch.randn(1, 4, 6, 6), torch.randn(2, 4, 3, 3)
    with pytest.raises(tconv.NoAlgorithmError, match="conv"):
        tconv.custom_conv2d(x, w, combine="abs_diff", algorithm="conv")


def test_no_warnings_on_the_common_path():
    x, w = torch.randn(1, 4, 6, 6, requires_grad=True), torch.randn(2, 4, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tconv.custom_conv2d(x, w, padding=1, combine="abs_diff").sum().backward()


@pytest.mark.parametrize("combine, reduce", [("add", "max"), ("add", "min"), ("abs_diff", "sum")])
def test_compiled_ties_follow_the_same_rule(combine, reduce, compiling):
    x = torch.ones(1, 2, 4, 4, requires_grad=True)
    w = torch.zeros(3, 2, 2, 2, requires_grad=True) + (combine == "abs_diff")
    grads = {}
    for algorithm in ("compiled", "chunked"):
        out = tconv.custom_conv2d(x, w, combine=combine, reduce=reduce, algorithm=algorithm)
        grads[algorithm] = torch.autograd.grad(out, (x, w), torch.ones_like(out))
    for a, b in zip(*grads.values()):
        assert torch.equal(a, b)
