"""Porting a Keras ``Conv2DTranspose(128, (2, 2), strides=(2, 2), padding="same")`` layer to
PyTorch with ``tconv.from_keras``: the same padding rule and the weights converted from Keras'
``(kH, kW, out, in)`` layout, then the outputs compared (Keras NHWC, PyTorch NCHW).

Needs Keras (``pip install 'tconv[interop]'``). Run: ``python examples/keras_port.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tconv  # noqa: E402


def main(quick: bool = False) -> float:
    """Port the layer and return the largest difference of the outputs, relative to Keras's largest magnitude."""
    import keras

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 15, 9, 64)).astype(np.float32)  # odd sizes: where frameworks disagree
    layer = keras.layers.Conv2DTranspose(128, (2, 2), strides=(2, 2), padding="same")
    expected = np.asarray(layer(x))  # builds the layer: (2, 30, 18, 128)
    module = tconv.from_keras(layer.get_config(), layer.get_weights())
    with torch.no_grad():
        actual = module(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    difference = float(np.abs(actual - expected).max()) / float(np.abs(expected).max())
    print(
        f"{module}\nKeras {expected.shape}, tconv {actual.shape} (NHWC); largest relative difference {difference:.2e}"
    )
    return difference


if __name__ == "__main__":
    main()
