"""Weight layouts: round trips, and the meaning of each layout checked through a convolution."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tconv
from tconv import LAYOUTS


@pytest.mark.parametrize("transposed", [True, False])
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_round_trips(transposed, ndim):
    w = torch.randn(4, 3, *range(2, 2 + ndim))
    for src, dst in itertools.product(LAYOUTS, LAYOUTS):
        there = tconv.convert_weight(w, "torch", src, transposed=transposed)
        moved = tconv.convert_weight(there, src, dst, transposed=transposed)
        torch.testing.assert_close(tconv.convert_weight(moved, dst, "torch", transposed=transposed), w, rtol=0, atol=0)


def test_shapes_of_a_transposed_weight():
    w = torch.randn(4, 3, 5, 6)  # (Cin, Cout, kH, kW)
    shape = lambda name: tuple(tconv.convert_weight(w, "torch", name, transposed=True).shape)  # noqa: E731
    assert shape("onnx") == shape("cudnn_kcrs") == (4, 3, 5, 6)
    assert shape("tf") == shape("keras") == (5, 6, 3, 4)
    assert shape("jax") == (5, 6, 4, 3)
    assert shape("cudnn_krsc") == (4, 5, 6, 3)


def test_shapes_of_a_forward_weight():
    w = torch.randn(8, 2, 5, 6)  # (Cout, Cin/g, kH, kW)
    shape = lambda name: tuple(tconv.convert_weight(w, "torch", name, transposed=False).shape)  # noqa: E731
    assert shape("tf") == shape("jax") == (5, 6, 2, 8)
    assert shape("cudnn_krsc") == (8, 5, 6, 2)


def test_jax_layout_is_the_flipped_forward_kernel():
    """A transposed conv equals a forward conv over the stride-dilated input with the jax-layout kernel."""
    x, w = torch.randn(1, 4, 5, 5, dtype=torch.float64), torch.randn(4, 3, 3, 2, dtype=torch.float64)
    expected = F.conv_transpose2d(x, w, stride=2)
    dilated = torch.zeros(1, 4, 9, 9, dtype=torch.float64)
    dilated[:, :, ::2, ::2] = x
    hwio = tconv.convert_weight(w, "torch", "jax", transposed=True)  # (kH, kW, Cin, Cout), flipped
    forward = hwio.permute(3, 2, 0, 1)  # OIHW for F.conv2d
    torch.testing.assert_close(F.conv2d(dilated, forward, padding=(2, 1)), expected)


def test_numpy_in_tensor_out():
    out = tconv.convert_weight(np.ones((3, 3, 2, 4), dtype=np.float32), "tf", "torch", transposed=True)
    assert isinstance(out, torch.Tensor) and out.shape == (4, 2, 3, 3) and out.is_contiguous()
