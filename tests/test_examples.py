"""The examples run (``--quick``) and their optimized models equal the originals."""

import importlib
import math
from pathlib import Path

import pytest
import torch

from interop.conftest import require
from tconv.core.testing import tolerance

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: Each example's convolution-like layers along its longest path and the longest sum of products in
#: one of them (channels x taps, x the upsampling or pooling window a fused layer folds in): its
#: optimized model differs from the original by at most ``layers * tolerance(float32, terms)``
#: (the float32 rounding of each layer, passed on by the layers after it).
NUMERICS = {
    "unet_decoder": (7, 256 * 3 * 3 * 4),  # 3 blocks of two 3x3 convolutions, the head; 256 channels upsampled 2x2
    "dcgan_generator": (5, 512 * 4 * 4),  # 5 transposed 4x4 convolutions, 512 channels at most
    "detection_neck": (4, 128 * 3 * 3 * 4),  # lateral, 2 upsamplings, smooth; the extra 3x3 conv pooled 2x2
}


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("name", NUMERICS)
def test_example_optimizes_its_model(name, capsys):
    result = importlib.import_module(name).main(quick=True)
    layers, terms = NUMERICS[name]
    assert result["relative_difference"] <= layers * tolerance(torch.float32, terms), result
    # the speedup is the ratio of the two measured times (its size is the machine's, not asserted)
    assert all(math.isfinite(result[key]) and result[key] > 0 for key in ("original", "optimized")), result
    assert result["speedup"] == result["original"] / result["optimized"], result
    assert "rewritten:" in capsys.readouterr().out


@pytest.mark.interop
def test_keras_port():
    require("keras", "examples/keras_port.py")
    # Conv2DTranspose(128, 2, strides=2) on 64 channels: 64 products per output, each side in float32
    assert importlib.import_module("keras_port").main() <= 2 * tolerance(torch.float32, 64)
