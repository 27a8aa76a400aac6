"""Bad input is answered with a ValueError/TypeError naming the argument and the legal values."""

import numpy as np
import pytest
import torch

import tconv

X = torch.randn(2, 4, 5, 5)
W = torch.randn(4, 3, 3, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: tconv.conv_transpose2d(torch.randn(4, 5), W), ValueError, r"input: expected 4 dimensions"),
        (lambda: tconv.conv_transpose2d(torch.randn(1, 2, 4, 5, 5), W), ValueError, r"input: expected 4 dimensions"),
        (lambda: tconv.conv_transpose2d(X, torch.randn(4, 3, 3)), ValueError, r"weight: expected 4 dimensions"),
        (
            lambda: tconv.conv_transpose2d(torch.randn(2, 5, 5, 5), W),
            ValueError,
            r"input: has 5 channels but weight expects 4",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, groups=3),
            ValueError,
            r"groups: in_channels \(4\) must be divisible by groups \(3\)",
        ),
        (lambda: tconv.conv_transpose2d(X, W, groups=0), ValueError, r"groups: must be >= 1"),
        (lambda: tconv.conv_transpose2d(X, W, torch.randn(4)), ValueError, r"bias: expected shape \(3,\)"),
        (lambda: tconv.conv_transpose2d(X, W, torch.randn(3, 1)), ValueError, r"bias: expected shape"),
        (lambda: tconv.conv_transpose2d(X, W, stride=0), ValueError, r"stride: every entry must be >= 1"),
        (lambda: tconv.conv_transpose2d(X, W, stride=(2, -1)), ValueError, r"stride: every entry must be >= 1"),
        (lambda: tconv.conv_transpose2d(X, W, stride=(1, 2, 3)), ValueError, r"stride: expected an int or 2 ints"),
        (lambda: tconv.conv_transpose2d(X, W, stride=1.5), TypeError, r"stride: expected an int or 2 ints"),
        (lambda: tconv.conv_transpose2d(X, W, stride=(2, 1.5)), TypeError, r"stride: expected ints"),
        (lambda: tconv.conv_transpose2d(X, W, dilation=0), ValueError, r"dilation: every entry must be >= 1"),
        (lambda: tconv.conv_transpose2d(X, W, padding=-1), ValueError, r"padding: must be non-negative"),
        (lambda: tconv.conv_transpose2d(X, W, padding=((0, -1), 0)), ValueError, r"padding: must be non-negative"),
        (
            lambda: tconv.conv_transpose2d(X, W, padding="full"),
            ValueError,
            r"padding: unknown padding 'full'; legal strings are 'valid', 'same'",
        ),
        (lambda: tconv.conv_transpose2d(X, W, padding=((0, 1),)), ValueError, r"padding: expected .* 2 entries"),
        (lambda: tconv.conv_transpose2d(X, W, padding=((0, 1, 2), 0)), ValueError, r"padding: each per-axis entry"),
        (lambda: tconv.conv_transpose2d(X, W, padding=20), ValueError, r"padding: .* crops the whole output"),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, output_padding=2),
            ValueError,
            r"output_padding: 2 .* smaller than max\(stride, dilation\) = 2",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, output_padding=-1),
            ValueError,
            r"output_padding: every entry must be >= 0",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, padding="same", output_size=(12, 10)),
            ValueError,
            r"output_size: 12 .* legal sizes are 1 … 11",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, padding="same", output_size=(0, 10)),
            ValueError,
            r"output_size: every entry must be >= 1",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, padding=1, output_size=(8, 9)),
            ValueError,
            r"output_size: 8 .* legal sizes are 9 … 10",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, output_size=(11,)),
            ValueError,
            r"output_size: expected 2 spatial sizes",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W, stride=2, padding=1, output_padding=1, output_size=(9, 9)),
            ValueError,
            r"output_size: 9 .* disagrees with output_padding=1",
        ),
        (
            lambda: tconv.conv_transpose2d(X, W.double()),
            TypeError,
            r"weight: dtype torch.float64 does not match the input's torch.float32",
        ),
        (lambda: tconv.conv_transpose2d(X, W, torch.randn(3, dtype=torch.float64)), TypeError, r"bias: dtype"),
        (
            lambda: tconv.conv_transpose2d(X.long(), W.long()),
            TypeError,
            r"input: expected a floating-point or complex dtype",
        ),
        (lambda: tconv.conv_transpose2d(X.numpy(), W), TypeError, r"input: expected a torch.Tensor"),
        (
            lambda: tconv.conv_transpose2d(X, W, algorithm="fastest"),
            ValueError,
            r"algorithm: unknown algorithm 'fastest'; legal values are 'auto', 'native'",
        ),
        (
            lambda: tconv.convert_weight(W, "pytorch", "tf", transposed=True),
            ValueError,
            r"src: unknown layout 'pytorch'; legal layouts are 'torch'",
        ),
        (lambda: tconv.convert_weight(W, "torch", "caffe", transposed=True), ValueError, r"dst: unknown layout"),
        (
            lambda: tconv.convert_weight(W, "torch", "tf", transposed="yes"),
            TypeError,
            r"transposed: expected True or False",
        ),
        (
            lambda: tconv.convert_weight(np.zeros((3, 3)), "torch", "tf", transposed=True),
            ValueError,
            r"weight: expected 2 channel axes",
        ),
        (lambda: tconv.nn.ConvTranspose2d(4, 3, 3, padding="full"), ValueError, r"padding: unknown padding"),
        (
            lambda: tconv.nn.ConvTranspose2d(4, 3, 3, padding_mode="reflect"),
            ValueError,
            r"padding_mode: .* only 'zeros'",
        ),
        (
            lambda: tconv.nn.ConvTranspose2d(4, 3, 3, groups=2),
            ValueError,
            r"groups: in_channels \(4\) and out_channels \(3\)",
        ),
    ],
)
def test_bad_input_is_answered(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_cached_calls_still_check_types():
    """A call that differs from a cached one only by an argument's type is still refused."""
    tconv.conv_transpose2d(X, W, stride=2, groups=1)
    with pytest.raises(TypeError, match="stride: expected ints"):
        tconv.conv_transpose2d(X, W, stride=(2, 2.0), groups=1)
    with pytest.raises(TypeError, match="groups: expected an int"):
        tconv.conv_transpose2d(X, W, stride=2, groups=True)
