"""``torch.onnx.export`` of tconv's modules and of a ``tconv.optimize``-d model, run by ONNX Runtime.

While exporting, every op takes its family's portable algorithm (:mod:`tconv.core.dispatch`): PyTorch's
transposed convolution plus a crop, the plain upsample/pad/conv/pool composition, ordinary
convolutions or the recipe of slices for custom ones. The graphs must hold standard ONNX operators
only, and ONNX Runtime must compute what PyTorch computes.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tconv

from .conftest import require

onnx = require("onnx")
ort = require("onnxruntime")
require("onnxscript", "torch.onnx.export")

from tconv.optimize import model_tolerance  # noqa: E402
from test_optimize import Decoder  # noqa: E402  (tests/ is on sys.path)

pytestmark = [
    pytest.mark.interop,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

X2 = (2, 4, 7, 6)
MODULES = {  # name: (module, input shape)
    "conv_transpose same s2": (lambda: tconv.nn.ConvTranspose2d(4, 6, 3, stride=2, padding="same"), X2),
    "conv_transpose k4 s2 p1": (lambda: tconv.nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, groups=2), X2),
    "conv_transpose 1d same_lower": (
        lambda: tconv.nn.ConvTranspose1d(4, 6, 4, stride=3, padding="same_lower"),
        (2, 4, 9),
    ),
    "upsample_conv nearest": (lambda: tconv.nn.UpsampleConv2d(4, 6, 3, padding=1), X2),
    "upsample_conv bilinear reflect": (
        lambda: tconv.nn.UpsampleConv2d(
            4, 6, 3, mode="bilinear", align_corners=False, padding="same", padding_mode="reflect"
        ),
        X2,
    ),
    "upsample_conv 3d": (lambda: tconv.nn.UpsampleConv3d(4, 6, 3, padding=1), (1, 4, 3, 4, 5)),
    "conv_pool": (lambda: tconv.nn.ConvPool2d(4, 6, 3, padding=1), X2),
    "custom mul/sum": (lambda: tconv.nn.CustomConv2d(4, 6, 3, padding=1), X2),
    "custom abs_diff/sum": (lambda: tconv.nn.CustomConv2d(4, 6, 3, padding=1, combine="abs_diff"), X2),
    "custom add/max reflect": (
        lambda: tconv.nn.CustomConv2d(4, 6, 3, padding=1, combine="add", reduce="max", padding_mode="reflect"),
        X2,
    ),
}


def _export_and_run(model: nn.Module, x: torch.Tensor) -> tuple[np.ndarray, onnx.ModelProto]:
    program = torch.onnx.export(model.eval(), (x,), dynamo=True, verbose=False)
    proto = program.model_proto
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return out, proto


def _check(model: nn.Module, x: torch.Tensor) -> None:
    with torch.no_grad():
        expected = model(x).numpy()
    actual, proto = _export_and_run(model, x)
    domains = {node.domain for node in proto.graph.node} | {f.domain for f in proto.functions}
    assert domains <= {"", "ai.onnx"}, f"non-standard operators: {domains}"
    assert actual.shape == expected.shape
    # each side is a float32 result within the model's tolerance of the exact one
    scale, allowed = max(float(np.abs(expected).max()), 1e-30), 2 * model_tolerance(model, torch.float32)
    difference = float(np.abs(actual - expected).max())
    assert difference <= allowed * scale, f"ONNX Runtime differs by {difference:.3g}, allowed {allowed * scale:.3g}"


@pytest.mark.parametrize("name", MODULES)
def test_module_exports_to_standard_operators(name):
    torch.manual_seed(0)
    module, shape = MODULES[name]
    _check(module(), torch.randn(shape))


def test_optimized_model_exports():
    torch.manual_seed(0)
    optimized = tconv.optimize(Decoder(), torch.randn(1, 8, 6, 6))
    _check(optimized, torch.randn(2, 8, 6, 6))
