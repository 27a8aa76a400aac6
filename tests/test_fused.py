"""Fused ops against the naive torch composition they replace.

``tconv.upsample_conv{1,2,3}d`` must equal ``conv(pad(interpolate(x)))`` and ``tconv.conv_pool{1,2,3}d``
must equal ``avg_pool(conv(x))``, exactly like ``nn.ConvNd`` for every ``padding_mode``: every
border, odd and even sizes, every padding kind and mode, dilation, groups and bias, forward and
the gradients of input, weight and bias, in float64 to rounding, for every algorithm. Where torch's
own composition refuses a configuration, tconv must refuse it too, with a ``ValueError``. The
composition (``naive``) and the random configurations live in :mod:`tconv.fused.testing`, shared
with ``tconv check``.
"""

from __future__ import annotations

import dataclasses
import random
import zlib

import pytest
import torch
import torch.nn.functional as F

import tconv
from tconv.fused.testing import PADDING_MODES, TORCH_REFUSES, Case, each_axis, naive, random_case, torch_accepts

# torch's own note on padding="same" with even kernels, raised by the naive composition
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

ALGORITHMS = ("auto", *(name for name, algorithm in tconv.fused.ALGORITHMS.items() if algorithm.auto))
F64 = dict(rtol=1e-10, atol=1e-10)


def fused(op, ndim):
    return getattr(tconv, f"{op}{ndim}d")


# --------------------------------------------------------------------------------------------
# random configurations
# --------------------------------------------------------------------------------------------


COUNTS = {("upsample_conv", 1): 100, ("upsample_conv", 2): 100, ("upsample_conv", 3): 50,
          ("conv_pool", 1): 100, ("conv_pool", 2): 100, ("conv_pool", 3): 50}  # fmt: skip


def _configs():
    out = []
    for (op, ndim), count in COUNTS.items():
        rng = random.Random(f"{op}{ndim}")
        out += [(f"{op}{ndim}d-{i:03d}", random_case(rng, op, ndim)) for i in range(count)]
    return out


CONFIGS = _configs()


# --------------------------------------------------------------------------------------------
# the comparison
# --------------------------------------------------------------------------------------------


def _declared_unable(op, algorithm, x, w, b, kwargs) -> bool:
    """Whether ``algorithm`` declares it cannot run this call (forcing it then raises)."""
    return algorithm != "auto" and bool(tconv.explain_fused(op, x, w, b, **kwargs).reasons[algorithm])


def _msg(cfg, algorithm, what):
    return lambda m: f"{what} differs for {cfg}, algorithm={algorithm!r}:\n{m}"


def compare(cfg: Case, algorithm: str, seed: int = 0, **close):
    """Forward and gradients (input, weight, bias) of tconv against the naive composition."""
    close = close or F64
    x, w, b = cfg.tensors(seed=seed, requires_grad=True)
    try:
        expected = naive(cfg.op, x, w, b, **cfg.kwargs)
    except TORCH_REFUSES as refusal:
        # torch refuses: tconv must refuse as well, with a ValueError, and not return numbers
        try:
            result = fused(cfg.op, cfg.ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)
        except ValueError:
            return "refused"
        pytest.fail(f"torch refuses {cfg} ({refusal}) but algorithm={algorithm!r} returned shape {tuple(result.shape)}")

    try:
        actual = fused(cfg.op, cfg.ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)
    except tconv.NoAlgorithmError as error:
        # only where the algorithm declares it cannot run, and saying why
        declared = tconv.explain_fused(cfg.op, x, w, b, **cfg.kwargs).reasons[algorithm]
        assert declared and all(reason in str(error) for reason in declared), f"{algorithm} refused {cfg}: {error}"
        return "declared unable"
    torch.testing.assert_close(actual, expected, **close, msg=_msg(cfg, algorithm, "forward"))

    upstream = torch.randn(expected.shape, generator=torch.Generator().manual_seed(seed + 1), dtype=expected.dtype)
    names, leaves = zip(*[(n, t) for n, t in (("input", x), ("weight", w), ("bias", b)) if t is not None])
    expected_grads = torch.autograd.grad(expected, leaves, upstream)
    actual_grads = torch.autograd.grad(actual, leaves, upstream)
    for name, a, e in zip(names, actual_grads, expected_grads):
        torch.testing.assert_close(a, e, **close, msg=_msg(cfg, algorithm, f"grad of {name}"))
    return "equal"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("cfg", [c for _, c in CONFIGS], ids=[i for i, _ in CONFIGS])
def test_random_config_float64(cfg, algorithm):
    compare(cfg, algorithm, seed=zlib.crc32(str(cfg).encode()) % 1000)


def test_random_configs_cover_the_space():
    """The draws above are not mostly refused, and the accepted ones reach every option."""
    accepted = [cfg for _, cfg in CONFIGS if torch_accepts(cfg)]
    for key in COUNTS:
        n = sum(1 for cfg in accepted if (cfg.op, cfg.ndim) == key)
        assert n >= COUNTS[key] // 2, f"only {n} of {COUNTS[key]} {key} configurations are accepted by torch"
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


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("cfg", HAND_PICKED, ids=[f"{c.op}{c.ndim}d-{i}" for i, c in enumerate(HAND_PICKED)])
def test_hand_picked_float64(cfg, algorithm):
    assert torch_accepts(cfg), f"test bug: torch refuses {cfg}"
    assert compare(cfg, algorithm) in ("equal", "declared unable")


@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
def test_reference_algorithm(op):
    """The forced float64 reference equals the composition, and returns the input dtype."""
    rng = random.Random(f"reference-{op}")
    done = 0
    while done < 4:
        cfg = random_case(rng, op, rng.choice((1, 2)))
        if not torch_accepts(cfg):
            continue
        x, w, b = cfg.tensors(seed=done)
        expected = naive(op, x, w, b, **cfg.kwargs)
        torch.testing.assert_close(fused(op, cfg.ndim)(x, w, b, **cfg.kwargs, algorithm="reference"), expected, **F64)
        x32, w32, b32 = (t.float() if t is not None else None for t in (x, w, b))
        out32 = fused(op, cfg.ndim)(x32, w32, b32, **cfg.kwargs, algorithm="reference")
        assert out32.dtype == torch.float32, str(cfg)
        torch.testing.assert_close(out32.double(), expected, rtol=1e-5, atol=1e-5)
        done += 1


# --------------------------------------------------------------------------------------------
# lower precision, memory layout, unbatched input, gradcheck
# --------------------------------------------------------------------------------------------


def _accepted(op, ndim, seed, count, *, linear_align=None):
    rng, out = random.Random(seed), []
    while len(out) < count:
        cfg = random_case(rng, op, ndim)
        if cfg.kwargs.get("align_corners") is True and linear_align is False:
            continue
        if torch_accepts(cfg):
            out.append(cfg)
    return out


@pytest.mark.parametrize("algorithm", ["auto", "composed"])
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 2e-5), (torch.bfloat16, 4e-2)], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_low_precision(op, ndim, dtype, tol, algorithm):
    """Error relative to the float64 composition's largest magnitude (on the same rounded values)."""
    for i, cfg in enumerate(_accepted(op, ndim, f"lp-{op}{ndim}", 3, linear_align=False)):
        x, w, b = cfg.tensors(dtype, seed=i)
        if not _torch_has_kernels(cfg, x, w, b):
            continue  # e.g. avg_pool3d has no bfloat16 CPU kernel: see test_conv_pool3d_bfloat16_border_strips
        out = fused(op, ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)
        assert out.dtype == dtype, str(cfg)
        expected = naive(op, *(t.double() if t is not None else None for t in (x, w, b)), **cfg.kwargs)
        error = (out.double() - expected).abs().max().item() / max(1.0, expected.abs().max().item())
        assert error <= tol, f"{dtype} error {error:.2e} > {tol:.0e} for {cfg}, algorithm={algorithm!r}"


def _torch_has_kernels(cfg, x, w, b):
    try:
        naive(cfg.op, x, w, b, **cfg.kwargs)
    except NotImplementedError:
        return False
    return True


@pytest.mark.parametrize("padding_mode", PADDING_MODES)
def test_conv_pool3d_bfloat16_border_strips(padding_mode):
    """torch has no bfloat16 avg_pool3d on CPU, but the composed algorithm needs none: one strided
    convolution (plus border strips). It should answer for every padding_mode, not only "zeros"."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 6, 6, 6, generator=g, dtype=torch.float64).bfloat16()
    w = torch.randn(1, 1, 3, 3, 3, generator=g, dtype=torch.float64).bfloat16()
    kw = dict(pool_size=2, padding=1, padding_mode=padding_mode)
    out = tconv.conv_pool3d(x, w, **kw, algorithm="composed")
    expected = naive("conv_pool", x.double(), w.double(), **kw)
    assert out.dtype == torch.bfloat16
    error = (out.double() - expected).abs().max().item() / max(1.0, expected.abs().max().item())
    assert error <= 4e-2, f"bfloat16 error {error:.2e}"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
@pytest.mark.parametrize("ndim", [2, 3])
def test_channels_last_input(op, ndim, algorithm):
    fmt = torch.channels_last if ndim == 2 else torch.channels_last_3d
    for i, cfg in enumerate(_accepted(op, ndim, f"cl-{op}{ndim}", 3, linear_align=False)):
        x, w, b = cfg.tensors(seed=i)
        x_cl = x.contiguous(memory_format=fmt).requires_grad_()
        assert x_cl.is_contiguous(memory_format=fmt)
        if _declared_unable(op, algorithm, x_cl, w, b, cfg.kwargs):
            continue
        out = fused(op, ndim)(x_cl, w, b, **cfg.kwargs, algorithm=algorithm)
        expected = naive(op, x, w, b, **cfg.kwargs)
        torch.testing.assert_close(out, expected, **F64, msg=_msg(cfg, algorithm, "channels_last forward"))
        (grad,) = torch.autograd.grad(out, x_cl, torch.ones_like(out))
        torch.testing.assert_close(
            grad,
            torch.autograd.grad(naive(op, x.requires_grad_(), w, b, **cfg.kwargs), x, torch.ones_like(out))[0],
            **F64,
        )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_unbatched_input(op, ndim, algorithm):
    for i, cfg in enumerate(_accepted(op, ndim, f"ub-{op}{ndim}", 2, linear_align=False)):
        x, w, b = cfg.tensors(seed=i)
        x = x[0]  # (C, *spatial)
        if _declared_unable(op, algorithm, x, w, b, cfg.kwargs):
            continue
        out = fused(op, ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)
        expected = naive(op, x, w, b, **cfg.kwargs)
        assert out.shape == expected.shape == (w.shape[0], *expected.shape[1:]), str(cfg)
        torch.testing.assert_close(out, expected, **F64, msg=_msg(cfg, algorithm, "unbatched forward"))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
def test_non_contiguous_tensors(op, algorithm):
    """Input and weight that are transposed views (strides not in row-major order)."""
    for i, cfg in enumerate(_accepted(op, 2, f"nc-{op}", 3, linear_align=False)):
        x, w, b = cfg.tensors(seed=i)
        x_view = x.transpose(-1, -2).contiguous().transpose(-1, -2)
        w_view = w.transpose(-1, -2).contiguous().transpose(-1, -2)
        assert (cfg.input_shape[-1] == 1 or not x_view.is_contiguous()) and torch.equal(x_view, x)
        if _declared_unable(op, algorithm, x_view, w_view, b, cfg.kwargs):
            continue
        out = fused(op, 2)(x_view, w_view, b, **cfg.kwargs, algorithm=algorithm)
        torch.testing.assert_close(
            out, naive(op, x, w, b, **cfg.kwargs), **F64, msg=_msg(cfg, algorithm, "non-contiguous forward")
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
    cfg = HAND_PICKED[3]
    x, w, b = cfg.tensors(seed=1)
    x.requires_grad_()
    out = tconv.upsample_conv2d(x, w, b, **cfg.kwargs, algorithm="composed")
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    x2 = x.detach().requires_grad_()
    (expected,) = torch.autograd.grad(naive(cfg.op, x2, w, b, **cfg.kwargs).square().sum(), x2)
    torch.testing.assert_close(grad, expected, **F64)


# --------------------------------------------------------------------------------------------
# argument handling
# --------------------------------------------------------------------------------------------


def test_integral_float_scale_and_defaults():
    x, w = torch.randn(1, 2, 3, 4, dtype=torch.float64), torch.randn(3, 2, 3, 3, dtype=torch.float64)
    base = tconv.upsample_conv2d(x, w, None, 2)
    torch.testing.assert_close(base, F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w), **F64)
    torch.testing.assert_close(tconv.upsample_conv2d(x, w, scale_factor=2.0), base, **F64)
    torch.testing.assert_close(tconv.upsample_conv2d(x, w, scale_factor=(2.0, 2)), base, **F64)
    y = tconv.conv_pool2d(x.repeat(1, 1, 2, 2), w)  # defaults: stride 1, padding 0, pool_size 2
    torch.testing.assert_close(y, F.avg_pool2d(F.conv2d(x.repeat(1, 1, 2, 2), w), 2), **F64)


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
    x, w = torch.randn(1, 2, 4, 4, dtype=torch.float64), torch.randn(3, 2, 3, 3, dtype=torch.float64)
    kw = dict(scale_factor=2, mode="bilinear", align_corners=True, padding=1)
    with pytest.raises(tconv.NoAlgorithmError) as info:
        tconv.upsample_conv2d(x, w, **kw, algorithm="composed")
    assert isinstance(info.value, ValueError) and len(str(info.value)) > 10, str(info.value)
    assert "align_corners" in str(info.value)
    # auto still answers, with the composition's numbers
    torch.testing.assert_close(tconv.upsample_conv2d(x, w, **kw), naive("upsample_conv", x, w, **kw), **F64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [41, 47, 49])
def test_nearest_follows_pytorchs_rounded_index(scale, dtype):
    """At some large scales PyTorch's float32/double nearest index rounds to the sample before
    ``j // scale``; the fused algorithms then say so, and ``auto`` still equals PyTorch."""
    x, w = torch.randn(1, 2, 3, 3, dtype=dtype), torch.randn(2, 2, 3, 3, dtype=dtype)
    kwargs = dict(scale_factor=(1, scale), mode="nearest", padding=1)
    expected = naive("upsample_conv", x, w, None, **kwargs)
    torch.testing.assert_close(tconv.upsample_conv2d(x, w, None, **kwargs), expected, rtol=1e-5, atol=1e-5)
    reasons = tconv.explain_fused("upsample_conv", x, w, None, **kwargs).reasons
    for name in ("composed", "separable"):
        if reasons[name]:
            assert any("index rounds" in reason for reason in reasons[name])
        else:  # PyTorch's index is j // scale here: the fused algorithm must agree
            out = tconv.upsample_conv2d(x, w, None, **kwargs, algorithm=name)
            torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("op", ["upsample_conv", "conv_pool"])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_inference_equals_composition(op, ndim, algorithm):
    """Without gradients, CPU upsampling runs its batch in halves written into the output."""
    for i, cfg in enumerate(_accepted(op, ndim, f"inference-{op}{ndim}", 6)):
        cfg = dataclasses.replace(cfg, input_shape=(3, *cfg.input_shape[1:]))
        x, w, b = cfg.tensors(seed=i)
        if _declared_unable(op, algorithm, x, w, b, cfg.kwargs):
            continue
        with torch.no_grad():
            out = fused(op, ndim)(x, w, b, **cfg.kwargs, algorithm=algorithm)
        torch.testing.assert_close(
            out, naive(op, x, w, b, **cfg.kwargs), **F64, msg=_msg(cfg, algorithm, "inference forward")
        )


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
    generator = torch.Generator().manual_seed(len(input_shape) + len(padding_mode))
    x = torch.randn(input_shape, generator=generator)
    w = torch.randn(4, input_shape[1], *kernel, generator=generator)
    b = torch.randn(4, generator=generator)
    call = dict(kwargs, padding_mode=padding_mode)
    plan, _, _ = tconv.fused.functional.OPS["upsample_conv"].prepare(ndim, x, w, b, call)
    assert tconv.algorithms.TRANSPOSED.decide(plan.core, "auto").algorithm.name == "subpixel_compiled"
    with torch.no_grad():
        out = fused("upsample_conv", ndim)(x, w, b, **call, algorithm="composed")
    expected = naive("upsample_conv", x.double(), w.double(), b.double(), **call)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-4)


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
    straight into its phase weight: forward and gradients equal the naive composition."""
    ran = 0
    for i, cfg in enumerate(_accepted("upsample_conv", ndim, f"subpixel-core{ndim}", 12, linear_align=False)):
        x, w, b = cfg.tensors(seed=i)
        if _declared_unable("upsample_conv", "composed", x, w, b, cfg.kwargs):
            continue
        plan, _, _ = tconv.fused.functional.OPS["upsample_conv"].prepare(ndim, x, w, b, cfg.kwargs)
        ran += (
            plan.core is not None and tconv.algorithms.TRANSPOSED.decide(plan.core, "auto").algorithm.name == "subpixel"
        )
        assert compare(cfg, "composed", seed=i) == "equal"
    assert ran >= 6


@pytest.mark.parametrize(
    "dtype, tolerance",
    [(torch.float32, 1e-5), (torch.float16, 2e-3), (torch.bfloat16, 2e-2)],
    ids=["float32", "float16", "bfloat16"],
)
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
def test_factored_inference_with_compiled_sums(input_shape, out_channels, kernel, kwargs, dtype, tolerance, compiling):
    """CPU inference with compiling on: ``factored`` sums its phases in a compiled pass (where a
    word holds the innermost scale's samples; eagerly otherwise and for an empty batch), equal to
    the naive composition in every padding mode, 1-3 d."""
    ndim = len(kernel)
    generator = torch.Generator().manual_seed(sum(input_shape) + len(kwargs))
    groups = kwargs.get("groups", 1)
    x = torch.randn(input_shape, generator=generator)
    w = torch.randn(out_channels, input_shape[1] // groups, *kernel, generator=generator)
    b = torch.randn(out_channels, generator=generator)
    with torch.no_grad():
        out = fused("upsample_conv", ndim)(x.to(dtype), w.to(dtype), b.to(dtype), **kwargs, algorithm="factored")
    expected = naive("upsample_conv", x.double(), w.double(), b.double(), **kwargs)
    assert out.dtype == dtype and out.shape == expected.shape
    if expected.numel():
        assert (out.double() - expected).abs().max() <= tolerance * expected.abs().max()


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
