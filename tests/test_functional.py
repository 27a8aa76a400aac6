"""The transposed convolutions' reference against PyTorch and by hand, the paths random problems
do not reach, and the public op's conventions. Every algorithm against the reference on random
problems: tests/test_algorithms.py."""

import ast
import dataclasses
import math
import random
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import tconv
import tconv.transposed.reference
from tconv import algorithms
from tconv.core.geometry import AxisWindow
from tconv.core.testing import relative_error, tolerance
from tconv.transposed.algorithms.native import torch_window
from tconv.transposed.reference import conv_transpose_reference
from tconv.transposed.testing import TESTS, Case, compare_with_reference, random_case, supports

# the compiled algorithms compile per problem (seconds): tests/test_compiled_algorithms.py
ALGORITHM_NAMES = [name for name, a in algorithms.ALGORITHMS.items() if not a.compiles and name != "reference"]
F_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def test_the_reference_imports_nothing_from_tconv():
    """It shares nothing with the code under test but the public arguments."""
    tree = ast.parse(Path(tconv.transposed.reference.__file__).read_text())
    imported = [
        ("." * node.level) + (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert imported and not [name for name in imported if name.startswith((".", "tconv"))], imported


def _torch_cases(count: int, seed: int = 0) -> list[Case]:
    """Random calls PyTorch can make itself: an int or per-axis ints of padding, output_padding."""
    rng, cases = random.Random(seed), []
    while len(cases) < count:
        case = random_case(rng)
        padding = case.kwargs["padding"]
        if "output_size" not in case.kwargs and (
            isinstance(padding, int) or (not isinstance(padding, str) and all(isinstance(p, int) for p in padding))
        ):
            cases.append(case)
    return cases


TORCH_CASES = _torch_cases(120)


def test_the_torch_cases_cover_every_rank_and_output_padding():
    assert {case.ndim for case in TORCH_CASES} == {1, 2, 3}
    assert any(max(case.kwargs["output_padding"]) for case in TORCH_CASES)
    assert any(case.kwargs.get("dilation") for case in TORCH_CASES) and any(case.bias for case in TORCH_CASES)
    assert any(case.kwargs.get("groups") for case in TORCH_CASES)


@pytest.mark.parametrize("index", range(len(TORCH_CASES)))
def test_the_reference_is_pytorch(index):
    """Where PyTorch defines the answer, the reference gives it: forward and gradients (float64)."""
    case = TORCH_CASES[index]
    x, w, b = case.tensors(torch.float64, seed=index, requires_grad=True)
    ours = conv_transpose_reference(x, w, b, **case.kwargs)
    theirs = F_CONV_TRANSPOSE[case.ndim](x, w, b, **case.kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    cotangent = torch.randn_like(theirs)
    tensors = [t for t in (x, w, b) if t is not None]
    for mine, pytorch in zip(
        torch.autograd.grad(ours, tensors, cotangent), torch.autograd.grad(theirs, tensors, cotangent)
    ):
        torch.testing.assert_close(mine, pytorch, rtol=1e-12, atol=1e-12)


def _ramp(length: int) -> torch.Tensor:
    """A 1-channel input ``1, 2, ..., length`` as ``(1, 1, length)``."""
    return torch.arange(1.0, length + 1, dtype=torch.float64).view(1, 1, -1)


# one axis, input [1, 2, 3], kernel [1, 10, 100], stride 2: the full output (L = 7) is
#   t:   0   1   2    3   4    5    6
#        1  10  102  20  203  30  300
FULL = [1.0, 10.0, 102.0, 20.0, 203.0, 30.0, 300.0]
RAMP_KERNEL = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64).view(1, 1, 3)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, FULL),
        ({"padding": "valid"}, FULL),
        ({"padding": "VALID", "output_padding": 1}, FULL + [0.0]),
        ({"padding": "valid", "output_size": (8,)}, FULL + [0.0]),
        ({"padding": 1, "output_padding": 1}, FULL[1:]),  # n = 7 + 1 - 2, from 1
        ({"padding": 1}, FULL[1:6]),
        ({"padding": ((2, 0),)}, FULL[2:]),
        ({"padding": ((0, 3),), "output_size": (5,)}, FULL[:5]),
        # SAME: n = i * s = 6, total = 7 - 6 = 1 (odd): UPPER crops it at the end, LOWER at the start
        ({"padding": "same"}, FULL[:6]),
        ({"padding": "same_upper"}, FULL[:6]),
        ({"padding": "Same_Lower"}, FULL[1:]),
        # output_size 4: total = 3, UPPER begins at 1, LOWER at 2
        ({"padding": "same_upper", "output_size": (1, 1, 4)}, FULL[1:5]),
        ({"padding": "same_lower", "output_size": (4,)}, FULL[2:6]),
        # with output_padding 1: total = 8 - 4 = 4, both begin at 2
        ({"padding": "same_upper", "output_padding": 1, "output_size": (4,)}, FULL[2:6]),
        ({"padding": "same_lower", "output_padding": 1, "output_size": (4,)}, FULL[2:6]),
        # output_size 3 with output_padding 1: total = 5, UPPER begins at 2, LOWER at 3
        ({"padding": "same_upper", "output_padding": 1, "output_size": (3,)}, FULL[2:5]),
        ({"padding": "same_lower", "output_padding": 1, "output_size": (3,)}, FULL[3:6]),
        # as long as the extended full output: no crop
        ({"padding": "same_lower", "output_padding": 1, "output_size": (8,)}, FULL + [0.0]),
    ],
    ids=str,
)
def test_the_reference_windows_by_hand(kwargs, expected):
    """Each vocabulary's window, computed by hand from semantics.md's table."""
    out = conv_transpose_reference(_ramp(3), RAMP_KERNEL, stride=2, **kwargs)
    assert out.flatten().tolist() == expected


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_every_algorithm_gives_the_windows_by_hand(name):
    """The same windows through the public op, so that a wrong reading fails here even where the
    reference and the algorithms could agree on it."""
    for padding, output_size, expected in [
        ("same", None, FULL[:6]),
        ("same_lower", None, FULL[1:]),
        ("same_upper", (4,), FULL[1:5]),
        ("same_lower", (4,), FULL[2:6]),
        ("valid", (8,), FULL + [0.0]),
    ]:
        case = Case((1, 1, 3), (1, 1, 3), {"stride": 2, "padding": padding, "output_size": output_size})
        if not supports(name, case, torch.float64):
            continue
        out = tconv.conv_transpose1d(
            _ramp(3), RAMP_KERNEL, stride=2, padding=padding, output_size=output_size, algorithm=name
        )
        assert out.flatten().tolist() == expected, (padding, output_size)


def test_the_reference_adds_the_bias_to_the_zeros_past_the_end():
    out = conv_transpose_reference(
        _ramp(3), RAMP_KERNEL, torch.tensor([0.5]), stride=2, padding=((5, 0),), output_size=(4,)
    )
    assert out.flatten().tolist() == [30.5, 300.5, 0.5, 0.5]


def test_the_reference_of_an_unbatched_input_and_groups():
    x = torch.randn(4, 5, dtype=torch.float64)
    w = torch.randn(4, 3, 2, dtype=torch.float64)
    out = conv_transpose_reference(x, w, None, 3, 1, 1, 2, 2)
    torch.testing.assert_close(out, F.conv_transpose1d(x[None], w, None, 3, 1, 1, 2, 2)[0], rtol=1e-12, atol=1e-12)


def test_the_reference_in_complex():
    x, w = torch.randn(1, 2, 4, dtype=torch.complex64), torch.randn(2, 3, 3, dtype=torch.complex64)
    out = conv_transpose_reference(x, w, stride=2, padding="same")
    assert out.dtype == torch.complex128
    real = lambda a, b: conv_transpose_reference(a, b, stride=2, padding="same")  # noqa: E731
    expected = real(x.real, w.real) - real(x.imag, w.imag) + 1j * (real(x.real, w.imag) + real(x.imag, w.real))
    torch.testing.assert_close(out, expected)


def _gradcheck_cost(case: Case) -> int:
    """About what gradcheck's numerical Jacobian costs: every operand element times a call."""
    return (math.prod(case.input_shape) + math.prod(case.weight_shape)) * math.prod(case.input_shape) * case.terms


# per algorithm the 4 cheapest of 16 drawn cases: gradcheck perturbs every element
GRADCHECK = [
    (name, case)
    for name in ALGORITHM_NAMES
    for case in sorted((case for case, _ in TESTS.draw(name, torch.float64, 16, seed=5)), key=_gradcheck_cost)[:4]
]


@pytest.mark.parametrize("name, case", GRADCHECK, ids=lambda v: str(v))
def test_gradcheck(name, case):
    x, w, b = case.tensors(torch.float64, requires_grad=True)
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def run(*tensors):
        bias = tensors[2] if b is not None else None
        return tconv.transposed.functional.conv_transpose(
            case.ndim, tensors[0], tensors[1], bias, **case.kwargs, algorithm=name
        )

    assert torch.autograd.gradcheck(run, inputs)


class _Recorder(TorchDispatchMode):
    """The aten ops run inside it."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((4, 3, 5, 6), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
        ((3, 2, 4, 4), (2, 3, 4, 4), {"stride": 2, "padding": 1}),  # an odd batch: halves of 2 and 1
        ((2, 2, 3, 5), (2, 4, 2, 3), {"stride": (1, 2)}),
    ],
)
@pytest.mark.parametrize("bias", [False, True])
def test_native_runs_a_lean_plan_in_two_halves(x_shape, w_shape, kwargs, bias):
    """The fused ops' core asks a lean plan (tconv.core.plan.in_halves); there ``native`` writes
    each half of the batch into the output. Against the reference, and the path checked taken."""
    case = Case(x_shape, w_shape, kwargs, bias=bias)
    x, w, b = case.tensors(torch.float64, seed=3)
    plan = tconv.transposed.functional.plan_for(x, w, b, **kwargs)
    native = algorithms.ALGORITHMS["native"]
    for lean, halves in ((False, 0), (True, 2)):
        with _Recorder() as recorder:
            out = native.run(dataclasses.replace(plan, lean=lean), x, w, b)
        assert recorder.ops.count(torch.ops.aten.convolution.out) == halves
        torch.testing.assert_close(out, conv_transpose_reference(x, w, b, **kwargs), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ndim", [2, 3])
def test_channels_last_output_layout(ndim):
    x = torch.randn(2, 4, *(5,) * ndim)
    memory_format = torch.channels_last if ndim == 2 else torch.channels_last_3d
    w = torch.randn(4, 3, *(3,) * ndim)
    for padding in (1, "same", "valid", ((0, 2),) * ndim):
        expected = conv_transpose_reference(x, w, stride=2, padding=padding)
        out = tconv.transposed.functional.conv_transpose(
            ndim, x.contiguous(memory_format=memory_format), w, stride=2, padding=padding
        )
        assert out.is_contiguous(memory_format=memory_format)
        assert relative_error(out, expected) <= tolerance(torch.float32, 4 * 3**ndim), padding


@pytest.mark.parametrize("index", range(20))
def test_torch_padding_is_pytorch(index):
    """With PyTorch-style padding ``native`` returns exactly what PyTorch returns."""
    case = TORCH_CASES[index]
    x, w, b = case.tensors(torch.float32, seed=index)
    ours = tconv.transposed.functional.conv_transpose(case.ndim, x, w, b, **case.kwargs, algorithm="native")
    torch.testing.assert_close(ours, F_CONV_TRANSPOSE[case.ndim](x, w, b, **case.kwargs), rtol=0, atol=0)


def test_unbatched_input():
    x, w, b = torch.randn(4, 6), torch.randn(4, 2, 3), torch.randn(2)
    out = tconv.conv_transpose1d(x, w, b, stride=2, padding="same")
    assert out.shape == (2, 12)
    torch.testing.assert_close(out, tconv.conv_transpose1d(x[None], w, b, stride=2, padding="same")[0])


def test_output_size_with_batch_and_channels():
    x, w = torch.randn(1, 2, 5, 5), torch.randn(2, 3, 3, 3)
    out = tconv.conv_transpose2d(x, w, stride=2, padding=1, output_size=(1, 3, 10, 10))
    torch.testing.assert_close(out, F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1))


def test_same_keeps_input_times_stride():
    x, w = torch.randn(1, 1, 7, 6), torch.randn(1, 1, 4, 3)
    for stride in (1, 2, 3):
        assert tconv.conv_transpose2d(x, w, stride=stride, padding="same").shape[2:] == (7 * stride, 6 * stride)


WINDOWS_PAST_THE_FULL_OUTPUT = [
    Case((1, 1, 2), (1, 1, 2), {"stride": 3, "padding": ((6, 0),), "output_padding": 2}, bias=True),
    Case((1, 1, 7, 1), (1, 3, 1, 2), {"stride": (1, 3), "padding": ((0, 4), (3, 0)), "output_size": (3, 1)}, bias=True),
]


@pytest.mark.parametrize(
    "name, case",
    [
        (name, case)
        for name in ALGORITHM_NAMES
        for case in WINDOWS_PAST_THE_FULL_OUTPUT
        if supports(name, case, torch.float64)
    ],
    ids=str,
)
def test_window_past_the_full_output(name, case):
    """A window that starts where the full output ends holds zeros and the bias only."""
    for gradients in (True, False):
        comparison = compare_with_reference(case, name, torch.float64, gradients=gradients)
        assert comparison.passed, str(comparison)


@pytest.mark.parametrize(
    "window, stride, expected",
    [
        # PyTorch padding=1, output_padding=1 (L = 11): PyTorch's own call, nothing left over
        (AxisWindow(11, 1, 10), 2, (1, 1, 0, 0, 0)),
        # SAME_LOWER with an odd total (k = 5): output_padding moves the end, nothing left over
        (AxisWindow(13, 2, 10), 2, (2, 1, 0, 0, 0)),
        # SAME_UPPER with an odd total: one sample to crop at the end
        (AxisWindow(13, 1, 10), 2, (1, 0, 0, 1, 0)),
        # a window past the end: output_padding gives what it can, zeros the rest
        (AxisWindow(10, 0, 12), 3, (0, 2, 0, 0, 0)),
        (AxisWindow(10, 0, 14), 3, (0, 2, 0, 0, 2)),
        # a large crop at the start: the rest is cropped after PyTorch
        (AxisWindow(11, 6, 2), 2, (4, 1, 2, 0, 0)),
        # a window that starts past the full output: all of PyTorch's result cropped, zeros only
        (AxisWindow(2, 3, 1), 3, (0, 0, 2, 0, 1)),
    ],
)
def test_native_window_split(window, stride, expected):
    assert torch_window(window, stride, 1) == expected


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_an_empty_batch_with_autotuning(ndim, autotuning):
    """Autotuning times every capable algorithm on the call itself; each returns the empty output
    (``gemm`` crashed on it)."""
    x, w, b = torch.randn(0, 4, *(5,) * ndim), torch.randn(4, 3, *(3,) * ndim), torch.randn(3)
    op = {1: tconv.conv_transpose1d, 2: tconv.conv_transpose2d, 3: tconv.conv_transpose3d}[ndim]
    kwargs = dict(stride=2, padding=1, output_padding=1)
    expected = F_CONV_TRANSPOSE[ndim](x, w, b, **kwargs).shape
    assert expected == (0, 3, *(10,) * ndim)
    assert op(x, w, b, **kwargs).shape == expected
    assert tconv.explain(op, x, w, b, **kwargs).how in ("autotuned", "autotune cache")
    capable = [name for name in ALGORITHM_NAMES if supports(name, Case(x.shape, w.shape, kwargs, bias=True))]
    assert "gemm" in capable or ndim == 3
    for name in capable:
        assert op(x, w, b, **kwargs, algorithm=name).shape == expected, name


# PyTorch's bfloat16 channels-last CPU convolutions compute wrong weight gradients for these (the
# first two) or crash (the third); tconv computes them channels-first (core.plan.channels_last_unreliable)
BFLOAT16_CHANNELS_LAST_TRAPS = [
    Case(
        (1, 6, 2, 4, 3),
        (6, 2, 3, 2, 3),
        {
            "stride": (1, 3, 1),
            "padding": ((3, 0), (5, 1), (3, 1)),
            "output_size": (1, 6, 1),
            "groups": 2,
            "dilation": (1, 2, 1),
        },
    ),
    Case(
        (2, 2, 2, 4, 2),
        (2, 1, 3, 3, 1),
        {"stride": 1, "padding": "same_upper", "output_padding": (0, 0, 1), "groups": 2, "dilation": (1, 1, 2)},
    ),
    Case(
        (2, 4, 6, 7),
        (4, 2, 1, 2),
        {
            "stride": (2, 2),
            "padding": "same_upper",
            "output_padding": (0, 1),
            "output_size": (8, 1),
            "groups": 2,
            "dilation": (1, 2),
        },
        bias=True,
    ),
]


@pytest.mark.parametrize("case", BFLOAT16_CHANNELS_LAST_TRAPS, ids=str)
@pytest.mark.parametrize("channels_last", [False, True])
def test_bfloat16_gradients_where_pytorchs_channels_last_kernels_fail(case, channels_last):
    capable = [
        name for name in ALGORITHM_NAMES if TESTS.supports(name, case, torch.bfloat16, channels_last=channels_last)
    ]
    assert "native" in capable
    for name in capable:
        comparison = compare_with_reference(case, name, torch.bfloat16, channels_last=channels_last)
        assert comparison.passed, comparison
