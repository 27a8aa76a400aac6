"""Custom-convolution modules: PyTorch's convolution parameters (init, state_dict both ways), the
definition's numbers (:func:`tconv.custom.reference.custom_conv_reference`), construction errors,
and training-time use (deepcopy, torch.compile)."""

import copy

import pytest
import torch
from torch import nn

import tconv
from tconv.custom import testing
from tconv.custom.reference import custom_conv_reference

CUSTOM_CONV = {1: tconv.nn.CustomConv1d, 2: tconv.nn.CustomConv2d, 3: tconv.nn.CustomConv3d}
CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_initialisation_and_random_draws_match_torch(ndim):
    torch.manual_seed(0)
    theirs = CONV[ndim](4, 6, 3, groups=2)
    after_theirs = torch.random.get_rng_state()
    torch.manual_seed(0)
    ours = CUSTOM_CONV[ndim](4, 6, 3, groups=2, combine="abs_diff")
    assert torch.equal(torch.random.get_rng_state(), after_theirs)
    for name in ("weight", "bias"):
        assert torch.equal(getattr(ours, name), getattr(theirs, name))


@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_round_trip_with_torch(bias):
    kwargs = dict(kernel_size=(3, 2), padding=1, dilation=(1, 2), groups=2, bias=bias)
    theirs, ours = nn.Conv2d(4, 6, **kwargs), tconv.nn.CustomConv2d(4, 6, **kwargs, combine="sq_diff", reduce="max")
    ours.load_state_dict(theirs.state_dict())
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value)
    theirs.load_state_dict(ours.state_dict())


MODULE_CASES = [
    # ndim, module arguments
    (1, dict(kernel_size=3, padding=1, combine="abs_diff")),
    (1, dict(kernel_size=4, padding="same", padding_mode="reflect", combine=testing.maximum, reduce="sum", bias=False)),
    (2, dict(kernel_size=3, stride=2, padding=1, groups=2, combine="add", reduce="max")),
    (
        2,
        dict(
            kernel_size=(3, 2),
            padding="valid",
            dilation=(2, 1),
            combine="sq_diff",
            reduce="logsumexp",
            max_memory=2**12,
        ),
    ),
    (2, dict(kernel_size=3, padding="same", padding_mode="circular", combine="sub", reduce=testing.soft_maximum)),
    (3, dict(kernel_size=2, padding=1, padding_mode="replicate", combine="sub", reduce="min")),
]


@pytest.mark.parametrize("ndim, arguments", MODULE_CASES)
def test_module_is_the_functional_op(ndim, arguments):
    module = CUSTOM_CONV[ndim](4, 6, **arguments, dtype=torch.float64)
    x = torch.randn(2, 4, *(7, 6, 5)[:ndim], dtype=torch.float64)
    public = {k: v for k, v in arguments.items() if k not in ("kernel_size", "bias", "max_memory")}
    expected = custom_conv_reference(x, module.weight, module.bias, **public)
    out = module(x)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    out.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_repr_names_the_functions():
    module = tconv.nn.CustomConv2d(4, 6, 3, padding=1, combine=testing.tanh_product, reduce="max", max_memory=2**20)
    text = repr(module)
    assert "CustomConv2d(4, 6, kernel_size=(3, 3)" in text
    assert "combine='tanh_product'" in text and "reduce='max'" in text and "max_memory=1048576" in text


CONSTRUCTION_ERRORS = [
    (dict(combine="times"), ValueError, "combine"),
    (dict(reduce=1), TypeError, "reduce"),
    (dict(max_memory=-1), ValueError, "max_memory"),
    (dict(groups=3), ValueError, "groups"),
    (dict(padding="same", stride=2), ValueError, "padding"),
    (dict(padding_mode="mirror"), ValueError, "padding_mode"),
    (dict(stride=0), ValueError, "stride"),
]


@pytest.mark.parametrize("arguments, error, name", CONSTRUCTION_ERRORS, ids=[str(a) for a, _, _ in CONSTRUCTION_ERRORS])
def test_bad_arguments_are_refused_at_construction(arguments, error, name):
    with pytest.raises(error, match=name):
        tconv.nn.CustomConv2d(4, 6, 3, **arguments)


def test_deepcopy_and_train_step():
    torch.manual_seed(0)
    model = nn.Sequential(
        tconv.nn.CustomConv2d(3, 8, 3, padding=1, combine="abs_diff"),
        nn.ReLU(),
        tconv.nn.CustomConv2d(8, 4, 3, padding=1, reduce="max", combine="add"),
    )
    twin = copy.deepcopy(model)
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(model(x), twin(x))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(x).square().mean().backward()
    optimizer.step()
    assert not torch.equal(model(x), twin(x))


def test_channels_last_module():
    module = tconv.nn.CustomConv2d(4, 6, 3, padding=1, combine="abs_diff").to(memory_format=torch.channels_last)
    x = torch.randn(2, 4, 6, 6)
    out = module(x.contiguous(memory_format=torch.channels_last))
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, module(x), rtol=0, atol=0)


def test_under_torch_compile():
    torch.manual_seed(0)
    model = nn.Sequential(tconv.nn.CustomConv2d(3, 4, 3, padding=1, combine="abs_diff"), nn.Tanh())
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    expected = model(x)
    grads = torch.autograd.grad(expected.sum(), (x, *model.parameters()))
    compiled = torch.compile(model)
    out = compiled(x)
    torch.testing.assert_close(out, expected)
    for a, b in zip(torch.autograd.grad(out.sum(), (x, *model.parameters())), grads):
        torch.testing.assert_close(a, b)
