"""Keras import without TensorFlow: the output lengths Keras computes, and weights in place.

The values are compared with live Keras in tests/interop/test_keras.py.
"""

import numpy as np
import pytest
import torch

import tconv


def keras_length(i, k, s, d, padding, output_padding):
    ke = (k - 1) * d + 1
    if output_padding is None:
        return i * s if padding == "same" else (i - 1) * s + max(ke, s)
    pad = ke // 2 if padding == "same" else 0
    return (i - 1) * s + ke - 2 * pad + output_padding


GEOMETRIES = [(1, 1, 1), (2, 2, 1), (3, 2, 1), (4, 2, 1), (5, 3, 1), (1, 3, 1), (3, 1, 2)]


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize(
    "kernel, stride, dilation, output_padding",
    [(k, s, d, op) for k, s, d in GEOMETRIES for op in (None, *range(s))],  # Keras: output_padding < stride
)
@pytest.mark.parametrize("size", [4, 5])
def test_output_lengths(padding, kernel, stride, dilation, output_padding, size):
    config = dict(
        filters=2,
        kernel_size=(kernel,),
        strides=(stride,),
        padding=padding,
        output_padding=output_padding,
        dilation_rate=(dilation,),
        use_bias=False,
    )
    module = tconv.from_keras(config, [np.ones((kernel, 2, 3), dtype=np.float32)])
    out = module(torch.ones(1, 3, size))
    assert out.shape == (1, 2, keras_length(size, kernel, stride, dilation, padding, output_padding))


def test_weights_and_bias_are_placed():
    rng = np.random.default_rng(0)
    kernel, bias = rng.standard_normal((3, 2, 5, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    module = tconv.from_keras(
        dict(filters=5, kernel_size=(3, 2), strides=(2, 2), padding="same", use_bias=True), [kernel, bias]
    )
    assert isinstance(module, tconv.nn.ConvTranspose2d) and module.weight.shape == (4, 5, 3, 2)
    torch.testing.assert_close(module.weight, torch.from_numpy(kernel).permute(3, 2, 0, 1))
    torch.testing.assert_close(module.bias, torch.from_numpy(bias))


@pytest.mark.parametrize(
    "config, weights, match",
    [
        (dict(filters=2, kernel_size=(3,), activation="relu"), 1, r"config: activation 'relu'"),
        (dict(filters=2, kernel_size=(3,), padding="causal"), 1, r"config: padding must be 'same' or 'valid'"),
        (dict(filters=2, kernel_size=(3,), use_bias=True), 1, r"weights: use_bias=True needs 2 arrays"),
        (dict(filters=4, kernel_size=(3,), use_bias=False), 1, r"weights: kernel has 2 output channels but filters=4"),
        (dict(filters=2, kernel_size=(2,), use_bias=False), 1, r"weights: kernel shape"),
    ],
)
def test_bad_configs(config, weights, match):
    arrays = [np.zeros((3, 2, 3), np.float32), np.zeros(2, np.float32)][:weights]
    with pytest.raises(ValueError, match=match):
        tconv.from_keras(config, arrays)
