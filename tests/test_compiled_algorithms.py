"""The compiled transposed algorithms (``nonoverlap_compiled``, ``subpixel_compiled``): gradcheck,
the shapes each is for, the bit packing, their reasons, and the fallback when compiling fails.
Each compiles kernels per problem (seconds), so they run a handful; their random problems are in
tests/test_algorithms.py."""

import math
import threading
import warnings

import pytest
import torch

import tconv
import tconv.core.compiling
from tconv import algorithms
from tconv.kernels.packing import pack, unpack
from tconv.transposed.testing import TESTS, Case, compare_with_reference, supports

NAMES = [name for name, algorithm in algorithms.ALGORITHMS.items() if algorithm.compiles]
NONOVERLAP = "nonoverlap_compiled"  # the shared machinery is tested through it


def _drawn(name: str, dtype: torch.dtype, count: int) -> list[Case]:
    """``count`` cases the algorithm declares it runs when compiling is on (at collection time)."""
    with_compiling = tconv.core.compiling.compile_enabled()
    tconv.set_compile(True)
    try:
        return [case for case, _ in TESTS.draw(name, dtype, count, seed=1)]
    finally:
        tconv.set_compile(with_compiling)


def test_both_compiled_algorithms_are_here():
    assert set(NAMES) == {"nonoverlap_compiled", "subpixel_compiled"}


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(name, compiling):
    (case,) = _drawn(name, torch.float64, 1)
    x, w, b = case.tensors(torch.float64, requires_grad=True)
    inputs = tuple(t for t in (x, w, b) if t is not None)

    def run(*tensors):
        bias = tensors[2] if b is not None else None
        return tconv.transposed.functional.conv_transpose(
            case.ndim, tensors[0], tensors[1], bias, **case.kwargs, algorithm=name
        )

    assert torch.autograd.gradcheck(run, inputs)


@pytest.mark.parametrize(
    "x_shape, w_shape, groups, stride",
    [
        ((2, 6, 5, 4), (6, 1, 2, 2), 6, 2),
        ((2, 4, 3, 5), (4, 3, 2, 2), 1, 2),
        ((1, 4, 2, 3, 4), (4, 2, 2, 2, 2), 2, 2),
        ((3, 4, 7), (4, 2, 2), 2, 2),
    ],
)
def test_upsampler_shapes_with_bias(x_shape, w_shape, groups, stride, compiling):
    """k = s, the shapes nonoverlap_compiled is for: depthwise, dense, grouped, 1-3 d, with bias."""
    case = Case(x_shape, w_shape, {"stride": stride, "groups": groups}, bias=True)
    assert supports(NONOVERLAP, case)
    for gradients in (True, False):
        comparison = compare_with_reference(case, NONOVERLAP, torch.float32, gradients=gradients)
        assert comparison.passed, str(comparison)


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((2, 6, 5, 4), (6, 4, 4, 4), {"stride": 2, "padding": 1}),  # DCGAN, pix2pix
        ((2, 4, 3, 5), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
        ((2, 4, 3, 5), (4, 1, 4, 4), {"stride": 2, "padding": 1, "groups": 4}),  # depthwise
        ((1, 4, 2, 3, 4), (4, 1, 4, 4, 4), {"stride": 2, "padding": 1, "groups": 2}),
        ((3, 4, 9), (4, 2, 8), {"stride": 4, "padding": 2}),  # audio; stride 4: four float16 per word
        ((2, 4, 1, 1), (4, 6, 4, 4), {"stride": 1}),  # a generator's first layer
    ],
)
def test_overlapping_shapes_with_bias(x_shape, w_shape, kwargs, compiling):
    """Overlapping kernels, the shapes subpixel_compiled is for, with bias."""
    case = Case(x_shape, w_shape, kwargs, bias=True)
    dtype = torch.float16 if kwargs["stride"] == 4 else torch.float32
    assert supports("subpixel_compiled", case, dtype)
    for gradients in (True, False):
        comparison = compare_with_reference(case, "subpixel_compiled", dtype, gradients=gradients)
        assert comparison.passed, str(comparison)


def test_auto_takes_nonoverlap_compiled_for_k_equal_s_when_compiling(compiling):
    x, w = torch.randn(2, 8, 6, 6), torch.randn(8, 1, 2, 2)
    assert tconv.explain(x, w, stride=2, groups=8).algorithm.name == NONOVERLAP
    assert tconv.explain(x.to(memory_format=torch.channels_last), w, stride=2, groups=8).algorithm.name != NONOVERLAP
    tconv.set_compile(False)
    choice = tconv.explain(x, w, stride=2, groups=8)
    assert choice.algorithm.name != NONOVERLAP and any("set_compile" in reason for reason in choice.reasons[NONOVERLAP])


def test_subpixel_compiled_reasons(compiling):
    def reasons(x, w, **kwargs):
        return _reasons("subpixel_compiled", x, w, **kwargs)

    x, w = torch.randn(1, 4, 5, 6), torch.randn(4, 2, 4, 4)
    assert not reasons(x, w, stride=2, padding=1)
    assert any("channels-last" in r for r in reasons(x.to(memory_format=torch.channels_last), w, stride=2, padding=1))
    assert any(
        "output length 9 on spatial axis 0 is not a multiple of its stride 2" in r
        for r in reasons(x, w[..., :3, :3], stride=2, padding=1)
    )
    assert any("innermost stride 3" in r for r in reasons(x, w, stride=3))
    tconv.set_compile(False)
    assert any("set_compile" in r for r in reasons(x, w, stride=2, padding=1))


def _reasons(name, x, w, **kwargs):
    return algorithms.ALGORITHMS[name].why_not(tconv.transposed.functional.plan_for(x, w, **kwargs))


def test_nonoverlap_compiled_reasons(compiling):
    def reasons(x, w, **kwargs):
        return _reasons(NONOVERLAP, x, w, **kwargs)

    w = torch.randn(4, 1, 4, 4)
    assert any(
        "innermost stride 4" in r and "float32" in r for r in reasons(torch.randn(1, 4, 3, 3), w, stride=4, groups=4)
    )
    assert not reasons(torch.randn(1, 4, 3, 3, dtype=torch.bfloat16), w.bfloat16(), stride=4, groups=4)
    assert any(
        "dtype torch.complex64" in r
        for r in reasons(torch.randn(1, 4, 3, 3, dtype=torch.complex64), w.to(torch.complex64), stride=4, groups=4)
    )
    cl = torch.randn(1, 4, 3, 3).to(memory_format=torch.channels_last)
    assert any("channels-last" in r for r in reasons(cl, torch.randn(4, 1, 2, 2), stride=2, groups=4))
    assert any("overlap" in r for r in reasons(torch.randn(1, 4, 3, 3), torch.randn(4, 1, 3, 3), stride=2, groups=4))


@pytest.mark.parametrize(
    "dtype, count",
    [(torch.float32, 2), (torch.float16, 2), (torch.float16, 4), (torch.bfloat16, 4), (torch.float64, 1)],
)
def test_pack_and_unpack_keep_every_bit(dtype, count):
    special = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -2.5, 3e-5], dtype=dtype)
    planes = [torch.roll(special, b) for b in range(count)]
    packed = pack(planes)
    assert packed.shape == (special.numel() * count,) and packed.dtype == dtype
    unpacked = unpack(packed, count)
    assert unpacked.shape == (special.numel(), count)
    for b, plane in enumerate(planes):
        assert torch.equal(packed[b::count].contiguous().view(torch.uint8), plane.view(torch.uint8))
        assert torch.equal(unpacked[:, b].contiguous().view(torch.uint8), plane.view(torch.uint8))


def test_compiling_under_warnings_as_errors_and_inference_mode(compiling):
    x, w = torch.randn(2, 3, 5, 4), torch.randn(3, 1, 2, 2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.inference_mode():
            tconv.conv_transpose2d(x, w.detach(), stride=2, groups=3, algorithm=NONOVERLAP)
        tconv.conv_transpose2d(x, w, stride=2, groups=3, algorithm=NONOVERLAP).sum().backward()
    torch.testing.assert_close(
        w.grad, torch.autograd.grad(torch.nn.functional.conv_transpose2d(x, w, stride=2, groups=3).sum(), w)[0]
    )


def test_compiling_that_fails_runs_eagerly_and_is_declined(monkeypatch, compiling):
    def broken(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(tconv.core.compiling, "_failed", {})
    monkeypatch.setattr(torch._inductor, "compile", broken)
    x, w = torch.randn(1, 4, 3, 5), torch.randn(4, 1, 2, 2)
    with pytest.warns(RuntimeWarning, match="no compiler here"):
        out = tconv.conv_transpose2d(x, w, stride=2, groups=4, algorithm=NONOVERLAP)
    torch.testing.assert_close(out, tconv.conv_transpose2d(x, w, stride=2, groups=4, algorithm="reference"))
    choice = tconv.explain(x, w, stride=2, groups=4)
    assert choice.algorithm.name != NONOVERLAP and any(
        "no compiler here" in reason for reason in choice.reasons[NONOVERLAP]
    )


def test_threads_compiling_at_once(compiling):
    """Tracing and inductor are not thread-safe: concurrent first calls compile one at a time."""
    problems = [(torch.randn(2, 4, 5 + i, 3), torch.randn(4, 1, 2, 2)) for i in range(4)]
    outputs: dict[int, torch.Tensor] = {}

    def work(i: int) -> None:
        x, w = problems[i]
        outputs[i] = tconv.conv_transpose2d(x, w, stride=2, groups=4, algorithm=NONOVERLAP)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(problems))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's own deprecation notices, from any thread
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not tconv.core.compiling._failed
    for i, (x, w) in enumerate(problems):
        torch.testing.assert_close(outputs[i], tconv.conv_transpose2d(x, w, stride=2, groups=4, algorithm="native"))
        assert tconv.explain(x, w, stride=2, groups=4).algorithm.name == NONOVERLAP


@pytest.mark.parametrize(
    "call, expected",
    [
        (
            lambda: tconv.conv_transpose2d(torch.randn(0, 4, 6, 6), torch.randn(4, 1, 2, 2), stride=2, groups=4),
            (0, 4, 12, 12),
        ),
        (
            lambda: tconv.conv_transpose2d(torch.randn(0, 2, 64, 64), torch.randn(2, 3, 4, 4), stride=2, padding=1),
            (0, 3, 128, 128),
        ),
        (lambda: tconv.upsample_conv2d(torch.randn(0, 2, 32, 32), torch.randn(3, 2, 3, 3), padding=1), (0, 3, 64, 64)),
        (
            lambda: tconv.custom_conv2d(
                torch.randn(0, 2, 5, 5), torch.randn(3, 2, 3, 3), padding=1, combine="abs_diff"
            ),
            (0, 3, 5, 5),
        ),
    ],
    ids=["nonoverlap", "subpixel", "upsample_conv", "custom"],
)
def test_an_empty_batch_is_declined_by_the_compiled_algorithms(call, expected, compiling):
    """No kernel to compile: ``auto`` takes another algorithm (the compiled ones crashed on it)."""
    assert call().shape == expected
    with pytest.raises(tconv.NoAlgorithmError, match="an empty batch"):
        tconv.conv_transpose2d(
            torch.randn(0, 2, 64, 64), torch.randn(2, 3, 4, 4), stride=2, padding=1, algorithm="subpixel_compiled"
        )
