"""Fused modules: PyTorch's convolution parameters (init, state_dict both ways), the outputs of
``nn.Sequential(upsample, conv)`` and ``nn.Sequential(conv, pool)``, and ``from_modules``."""

import pytest
import torch
from torch import nn

import tconv
from tconv.core.testing import Comparison, relative_error, tolerance
from tconv.fused import reference
from tconv.fused.testing import Case, terms

UPSAMPLE_CONV = {1: tconv.nn.UpsampleConv1d, 2: tconv.nn.UpsampleConv2d, 3: tconv.nn.UpsampleConv3d}
CONV_POOL = {1: tconv.nn.ConvPool1d, 2: tconv.nn.ConvPool2d, 3: tconv.nn.ConvPool3d}
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
AVG_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
FAMILIES = {"upsample": UPSAMPLE_CONV, "pool": CONV_POOL}
F64 = dict(dtype=torch.float64)


def _call(module, x) -> Case:
    """The fused call ``module(x)`` makes."""
    upsampling = type(module) in UPSAMPLE_CONV.values()
    names = ("scale_factor", "mode", "align_corners") if upsampling else ("stride", "pool_size")
    kwargs = {name: getattr(module, name) for name in (*names, "padding", "dilation", "groups", "padding_mode")}
    op = "upsample_conv" if upsampling else "conv_pool"
    return Case(op, module.ndim, tuple(x.shape), tuple(module.weight.shape), module.bias is not None, kwargs)


def _close(actual, expected, module, x):
    """``actual`` within the float64 tolerance of ``module(x)``'s longest sum of ``expected``."""
    case = _call(module, x)
    comparison = Comparison(relative_error(actual, expected), tolerance(torch.float64, terms(case)), str(case))
    assert comparison.passed, str(comparison)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_initialisation_and_random_draws_match_torch(family, ndim):
    torch.manual_seed(0)
    theirs = CONV[ndim](4, 6, 3, groups=2)
    after_theirs = torch.random.get_rng_state()
    torch.manual_seed(0)
    ours = FAMILIES[family][ndim](4, 6, 3, groups=2)
    assert torch.equal(torch.random.get_rng_state(), after_theirs)
    assert not isinstance(ours, nn.modules.conv._ConvNd)
    for name in ("weight", "bias"):
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name), rtol=0, atol=0)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_round_trip_with_torch(family, bias):
    kwargs = dict(kernel_size=(3, 2), padding=1, dilation=(1, 2), groups=2, bias=bias)
    theirs, ours = nn.Conv2d(4, 6, **kwargs), FAMILIES[family][2](4, 6, **kwargs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value)
    theirs.load_state_dict(FAMILIES[family][2](4, 6, **kwargs).state_dict())


UPSAMPLE_CASES = [
    # ndim, scale_factor, mode, align_corners, conv arguments
    (1, 2, "nearest", None, dict(kernel_size=3, padding=1)),
    (1, 3, "linear", True, dict(kernel_size=4, padding="same", padding_mode="reflect", bias=False)),
    (2, 2, "nearest", None, dict(kernel_size=3, padding=1, groups=2)),
    (2, (2, 3), "nearest-exact", None, dict(kernel_size=(3, 2), padding=(1, 0), padding_mode="replicate")),
    (2, 2, "bilinear", False, dict(kernel_size=3, padding="same", dilation=2, padding_mode="circular")),
    (2, 2, "bilinear", True, dict(kernel_size=2, padding="valid")),
    (3, 2, "nearest", None, dict(kernel_size=3, padding=1)),
    (3, 2, "trilinear", None, dict(kernel_size=(3, 1, 2), padding="same", padding_mode="replicate")),
]


@pytest.mark.parametrize("ndim, scale, mode, align_corners, conv_args", UPSAMPLE_CASES)
def test_upsample_conv_matches_sequential(ndim, scale, mode, align_corners, conv_args):
    upsample = nn.Upsample(scale_factor=scale, mode=mode, align_corners=align_corners)
    conv = CONV[ndim](4, 6, **conv_args, **F64)
    ours = UPSAMPLE_CONV[ndim](4, 6, scale_factor=scale, mode=mode, align_corners=align_corners, **conv_args, **F64)
    ours.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, *(5, 4, 3)[:ndim], **F64)
    _close(ours(x), nn.Sequential(upsample, conv)(x), ours, x)


POOL_CASES = [
    # ndim, pool_size, conv arguments
    (1, 2, dict(kernel_size=3, padding=1)),
    (2, 2, dict(kernel_size=3, padding="same", padding_mode="reflect")),
    (2, (2, 3), dict(kernel_size=3, stride=2, padding=1, groups=2, padding_mode="circular", bias=False)),
    (2, 3, dict(kernel_size=2, dilation=2, padding="valid")),  # sizes the pool does not divide
    (3, 2, dict(kernel_size=3, padding=1, padding_mode="replicate")),
]


@pytest.mark.parametrize("ndim, pool_size, conv_args", POOL_CASES)
def test_conv_pool_matches_sequential(ndim, pool_size, conv_args):
    conv = CONV[ndim](4, 6, **conv_args, **F64)
    ours = CONV_POOL[ndim](4, 6, pool_size=pool_size, **conv_args, **F64)
    ours.load_state_dict(conv.state_dict())
    x = torch.randn(2, 4, *(9, 8, 7)[:ndim], **F64)
    _close(ours(x), nn.Sequential(conv, AVG_POOL[ndim](pool_size))(x), ours, x)


FROM_MODULES = [
    (UPSAMPLE_CONV[1], nn.Upsample(scale_factor=2, mode="linear"), nn.Conv1d(2, 4, 3, padding=1)),
    (
        UPSAMPLE_CONV[2],
        nn.UpsamplingNearest2d(scale_factor=2),
        nn.Conv2d(2, 4, 3, padding="same", padding_mode="reflect"),
    ),
    (UPSAMPLE_CONV[2], nn.UpsamplingBilinear2d(scale_factor=2), nn.Conv2d(2, 4, 3, dilation=2, bias=False)),
    (UPSAMPLE_CONV[3], nn.Upsample(scale_factor=(1, 2, 2), mode="trilinear"), nn.Conv3d(2, 4, 3, padding=1, groups=2)),
    (CONV_POOL[1], nn.AvgPool1d(3), nn.Conv1d(2, 4, 3, stride=2, padding=1)),
    (
        CONV_POOL[2],
        nn.AvgPool2d((2, 3), stride=(2, 3), count_include_pad=False),
        nn.Conv2d(2, 4, 3, padding_mode="circular", padding=1),
    ),
    (CONV_POOL[3], nn.AvgPool3d(2, stride=None), nn.Conv3d(2, 4, (3, 1, 3), groups=2)),
]


@pytest.mark.parametrize("cls, first, conv", FROM_MODULES)
def test_from_modules_shares_parameters_outputs_and_gradients(cls, first, conv):
    conv = conv.double()
    ours = cls.from_modules(first, conv)
    assert ours.weight is conv.weight and ours.bias is conv.bias
    assert ours.weight.dtype == torch.float64 and type(ours) is cls
    reference = nn.Sequential(first, conv) if cls in UPSAMPLE_CONV.values() else nn.Sequential(conv, first)
    x = torch.randn(2, 2, *(9, 8, 7)[: cls.ndim], **F64, requires_grad=True)
    grads = []
    for module in (reference, ours):
        conv.zero_grad(set_to_none=True)
        x.grad = None
        out = module(x)
        out.backward(torch.cos(torch.arange(out.numel(), **F64)).view_as(out))
        grads.append([out, x.grad] + [p.grad for p in conv.parameters()])
    for actual, expected in zip(*grads[::-1]):
        _close(actual, expected, ours, x)


def test_from_modules_takes_settings_from_the_modules():
    conv = nn.Conv2d(2, 2, 3, padding="same", padding_mode="reflect", groups=2)
    state = torch.random.get_rng_state()
    ours = UPSAMPLE_CONV[2].from_modules(nn.UpsamplingBilinear2d(scale_factor=3), conv)
    assert (ours.mode, ours.align_corners, ours.padding, ours.padding_mode, ours.groups) == (
        "bilinear",
        True,
        "same",
        "reflect",
        2,
    )
    assert torch.equal(torch.random.get_rng_state(), state)  # no random draws for replaced parameters
    ours = CONV_POOL[2].from_modules(nn.AvgPool2d((2, 3)), nn.Conv2d(2, 2, 3, stride=2, dilation=(1, 2)))
    assert (ours.pool_size, ours.stride, ours.dilation) == ((2, 3), (2, 2), (1, 2))


class _MyConv2d(nn.Conv2d):
    pass


def _hooked(module):
    module.register_forward_hook(lambda *args: None)
    return module


FROM_MODULES_ERRORS = [
    (UPSAMPLE_CONV[2], nn.Upsample(size=(8, 8)), nn.Conv2d(2, 2, 3), ValueError, "upsample.*size"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2), nn.Conv1d(2, 2, 3), TypeError, "conv.*Conv2d"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2), nn.Conv2d(2, 2, 3, stride=2), ValueError, "conv.*stride"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2), nn.ConvTranspose2d(2, 2, 3), TypeError, "conv"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2), _MyConv2d(2, 2, 3), TypeError, "conv.*subclass"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2), _hooked(nn.Conv2d(2, 2, 3)), ValueError, "conv.*hooks"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=2, mode="bicubic"), nn.Conv2d(2, 2, 3), ValueError, "mode"),
    (UPSAMPLE_CONV[1], nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv1d(2, 2, 3), ValueError, "mode"),
    (UPSAMPLE_CONV[2], nn.Upsample(scale_factor=1.5), nn.Conv2d(2, 2, 3), ValueError, "scale_factor"),
    (UPSAMPLE_CONV[2], "upsample", nn.Conv2d(2, 2, 3), TypeError, "upsample"),
    (UPSAMPLE_CONV[2], nn.Identity(), nn.Conv2d(2, 2, 3), TypeError, "upsample"),
    (CONV_POOL[2], nn.AvgPool2d(2, padding=1), nn.Conv2d(2, 2, 3), ValueError, "pool.*pad"),
    (CONV_POOL[2], nn.AvgPool2d(2, ceil_mode=True), nn.Conv2d(2, 2, 3), ValueError, "pool.*ceil_mode"),
    (CONV_POOL[2], nn.AvgPool2d(2, divisor_override=3), nn.Conv2d(2, 2, 3), ValueError, "pool.*divisor_override"),
    (CONV_POOL[2], nn.AvgPool2d(3, stride=2), nn.Conv2d(2, 2, 3), ValueError, "pool.*stride"),
    (CONV_POOL[2], nn.MaxPool2d(2), nn.Conv2d(2, 2, 3), TypeError, "pool.*AvgPool2d"),
    (CONV_POOL[2], nn.AvgPool1d(2), nn.Conv2d(2, 2, 3), TypeError, "pool.*AvgPool2d"),
    (CONV_POOL[2], nn.AvgPool2d(2), nn.Conv3d(2, 2, 3), TypeError, "conv.*Conv2d"),
    (CONV_POOL[2], nn.Conv2d(2, 2, 3), nn.AvgPool2d(2), TypeError, "order"),
    (CONV_POOL[2], nn.AvgPool2d(2), None, TypeError, "conv"),
]


@pytest.mark.parametrize("cls, first, conv, error, match", FROM_MODULES_ERRORS)
def test_from_modules_errors(cls, first, conv, error, match):
    with pytest.raises(error, match=match):
        cls.from_modules(first, conv)


CONSTRUCTOR_ERRORS = [
    (UPSAMPLE_CONV[2], dict(in_channels=0), "in_channels"),
    (UPSAMPLE_CONV[2], dict(out_channels=2.0), "out_channels"),
    (CONV_POOL[2], dict(groups=3), "groups"),
    (CONV_POOL[2], dict(kernel_size=(3, 0)), "kernel_size"),
    (CONV_POOL[3], dict(kernel_size=(3, 3)), "kernel_size"),
    (UPSAMPLE_CONV[2], dict(dilation=0), "dilation"),
    (UPSAMPLE_CONV[2], dict(padding="full"), "padding"),
    (UPSAMPLE_CONV[2], dict(padding=-1), "padding"),
    (UPSAMPLE_CONV[2], dict(padding=((1, 0), (0, 1))), "padding"),  # pairs: not in the fused ops' vocabulary
    (CONV_POOL[2], dict(padding_mode="reflection"), "padding_mode"),
    (UPSAMPLE_CONV[2], dict(mode="bicubic"), "mode"),
    (UPSAMPLE_CONV[1], dict(mode="bilinear"), "mode"),
    (UPSAMPLE_CONV[2], dict(align_corners=True), "align_corners"),
    (UPSAMPLE_CONV[2], dict(scale_factor=0), "scale_factor"),
    (UPSAMPLE_CONV[2], dict(scale_factor=(2, 2, 2)), "scale_factor"),
    (UPSAMPLE_CONV[2], dict(scale_factor=(2, 1.5)), "scale_factor"),
    (CONV_POOL[2], dict(stride=0), "stride"),
    (CONV_POOL[2], dict(stride=2, padding="same"), "padding"),
    (CONV_POOL[2], dict(pool_size=(2, 0)), "pool_size"),
]


@pytest.mark.parametrize("cls, change, name", CONSTRUCTOR_ERRORS)
def test_constructor_errors_name_the_argument(cls, change, name):
    arguments = dict(in_channels=4, out_channels=4, kernel_size=3, groups=2) | change
    with pytest.raises((ValueError, TypeError), match=name):
        cls(**arguments)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("ndim", [2, 3])
def test_channels_last_input_and_no_grad(family, ndim):
    module = FAMILIES[family][ndim](4, 4, 3, padding=1, **F64)
    x = torch.randn(2, 4, *(6,) * ndim, **F64)
    layout = {2: torch.channels_last, 3: torch.channels_last_3d}[ndim]
    with torch.no_grad():
        out = module(x.to(memory_format=layout))
        case = _call(module, x)
        expected = reference.fused(case.op, x, module.weight, module.bias, **case.kwargs)
    assert not out.requires_grad
    _close(out, expected, module, x)


def test_repr():
    text = repr(
        UPSAMPLE_CONV[2](
            2, 4, 3, mode="bilinear", align_corners=True, padding="same", padding_mode="reflect", bias=False
        )
    )
    for part in (
        "UpsampleConv2d(2, 4, kernel_size=(3, 3)",
        "scale_factor=2",
        "mode='bilinear'",
        "align_corners=True",
        "padding='same'",
        "padding_mode='reflect'",
        "bias=False",
    ):
        assert part in text
    text = repr(CONV_POOL[1](2, 4, 3, stride=2, pool_size=3, algorithm="reference"))
    for part in ("ConvPool1d(2, 4, kernel_size=(3,), stride=(2,)", "pool_size=(3,)", "algorithm='reference'"):
        assert part in text
