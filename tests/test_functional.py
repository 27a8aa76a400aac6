"""Every algorithm against the float64 reference on random problems; PyTorch equivalence."""

import pytest
import torch
import torch.nn.functional as F

import tconv
from tconv import algorithms
from tconv.core.geometry import AxisWindow
from tconv.core.testing import TOLERANCE
from tconv.transposed.algorithms.native import torch_window
from tconv.transposed.testing import Case, compare_with_reference, random_cases, supports

# the compiled algorithms compile per problem (seconds): tests/test_nonoverlap_compiled.py
ALGORITHM_NAMES = [name for name, algorithm in algorithms.ALGORITHMS.items() if not algorithm.compiles]
CASES = random_cases(seed=2026, count=60)


# every (algorithm, problem) pair the algorithm declares it supports
PAIRS = [
    (name, index) for name in ALGORITHM_NAMES for index, case in enumerate(CASES) if supports(name, case, torch.float64)
]


def test_every_algorithm_is_exercised():
    assert {name for name, _ in PAIRS} == set(ALGORITHM_NAMES)


@pytest.mark.parametrize("name, index", PAIRS)
def test_random_problems_float64(name, index):
    case = CASES[index]
    assert compare_with_reference(case, name, torch.float64, seed=index) <= TOLERANCE[torch.float64], str(case)


@pytest.mark.parametrize("name, index", PAIRS)
def test_random_problems_inference(name, index):
    """Without gradients some algorithms take other paths (``native``: the batch in two halves)."""
    case = CASES[index]
    error = compare_with_reference(case, name, torch.float64, seed=index, gradients=False)
    assert error <= TOLERANCE[torch.float64], str(case)


def test_inference_cases_have_batches():
    assert any(case.input_shape[0] >= 2 for case in CASES)


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.complex64])
@pytest.mark.parametrize("channels_last", [False, True])
def test_dtypes_and_layouts(name, dtype, channels_last):
    for index, case in enumerate(random_cases(seed=7, count=8)):
        if not supports(name, case, dtype, channels_last=channels_last):
            continue
        error = compare_with_reference(case, name, dtype, seed=index, channels_last=channels_last)
        assert error <= TOLERANCE[dtype], f"{error:.2e} for {case}"


GRADCHECK_CASES = random_cases(seed=5, count=60, max_input=4)
GRADCHECK = [
    (name, index)
    for name in ALGORITHM_NAMES
    for index in [i for i, case in enumerate(GRADCHECK_CASES) if supports(name, case, torch.float64)][:6]
]


@pytest.mark.parametrize("name, index", GRADCHECK)
def test_gradcheck(name, index):
    case = GRADCHECK_CASES[index]
    x, w, b = case.tensors(torch.float64, seed=index, requires_grad=True)
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def run(*tensors):
        bias = tensors[2] if b is not None else None
        return tconv.transposed.functional.conv_transpose(
            case.ndim, tensors[0], tensors[1], bias, **case.kwargs, algorithm=name
        )

    assert torch.autograd.gradcheck(run, inputs)


@pytest.mark.parametrize("ndim", [2, 3])
def test_channels_last_output_layout(ndim):
    x = torch.randn(2, 4, *(5,) * ndim)
    memory_format = torch.channels_last if ndim == 2 else torch.channels_last_3d
    w = torch.randn(4, 3, *(3,) * ndim)
    for padding in (1, "same", "valid", ((0, 2),) * ndim):
        expected = tconv.transposed.functional.conv_transpose(ndim, x, w, stride=2, padding=padding)
        out = tconv.transposed.functional.conv_transpose(
            ndim, x.contiguous(memory_format=memory_format), w, stride=2, padding=padding
        )
        assert out.is_contiguous(memory_format=memory_format)
        torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("index", range(20))
def test_torch_padding_is_pytorch(index):
    """With PyTorch-style padding tconv returns exactly what PyTorch returns."""
    case = random_cases(seed=11, count=20)[index]
    kwargs = dict(case.kwargs)
    if not isinstance(kwargs["padding"], int) or "output_size" in kwargs:
        kwargs["padding"] = 0
        kwargs.pop("output_size", None)
    x, w, b = case.tensors(torch.float32, seed=index)
    op = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[case.ndim]
    ours = tconv.transposed.functional.conv_transpose(case.ndim, x, w, b, **kwargs, algorithm="native")
    torch.testing.assert_close(ours, op(x, w, b, **kwargs), rtol=0, atol=0)


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
    assert compare_with_reference(case, name, torch.float64) <= TOLERANCE[torch.float64]


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
