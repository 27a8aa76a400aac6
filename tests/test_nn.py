"""Modules: drop-in for PyTorch's (state_dict both ways, output_size), and tconv's padding."""

import pytest
import torch

import tconv

TORCH = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_round_trip_with_torch(ndim, bias):
    kwargs = dict(kernel_size=3, stride=2, padding=1, output_padding=1, groups=2, bias=bias, dilation=1)
    theirs = TORCH[ndim](4, 6, **kwargs)
    ours = tconv.nn.CONV_TRANSPOSE[ndim](4, 6, **kwargs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 4, *(5,) * ndim)
    torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
    size = [9] * ndim
    torch.testing.assert_close(ours(x, output_size=size), theirs(x, output_size=size), rtol=0, atol=0)
    theirs.load_state_dict(tconv.nn.CONV_TRANSPOSE[ndim](4, 6, **kwargs).state_dict())


def test_initialisation_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(8, 16, 3, groups=2)
    torch.manual_seed(0)
    ours = tconv.nn.ConvTranspose2d(8, 16, 3, groups=2)
    torch.testing.assert_close(ours.weight, theirs.weight, rtol=0, atol=0)
    torch.testing.assert_close(ours.bias, theirs.bias, rtol=0, atol=0)


@pytest.mark.parametrize("padding", ["same", "same_lower", "valid", ((0, 1), (2, 0))])
def test_padding_vocabulary_and_gradients(padding):
    module = tconv.nn.ConvTranspose2d(3, 2, (4, 3), stride=2, padding=padding, dtype=torch.float64)
    x = torch.randn(1, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    out = module(x)
    expected = tconv.conv_transpose2d(x, module.weight, module.bias, 2, padding, algorithm="reference")
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert x.grad is not None and module.weight.grad is not None and module.bias.grad is not None


def test_same_with_output_size_keeps_output_padding():
    module = tconv.nn.ConvTranspose1d(1, 1, 4, stride=2, padding="same", output_padding=1)
    x = torch.randn(1, 1, 5)
    torch.testing.assert_close(
        module(x, output_size=[9]), tconv.conv_transpose1d(x, module.weight, module.bias, 2, "same", 1, output_size=[9])
    )


def test_forced_algorithm_and_repr():
    module = tconv.nn.ConvTranspose2d(2, 2, 2, stride=2, padding="same", algorithm="reference")
    assert "algorithm='reference'" in repr(module) and "padding='same'" in repr(module)
    assert module(torch.randn(1, 2, 3, 3)).shape == (1, 2, 6, 6)
