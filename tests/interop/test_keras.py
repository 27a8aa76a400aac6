"""tconv's Keras import against Keras ``Conv{1,2,3}DTranspose`` (TensorFlow backend), live.

Each case builds the Keras layer on a channels-last input, sets seeded random weights, calls it,
and compares with ``tconv.from_keras(layer.get_config(), layer.get_weights())`` applied to the
channels-first input (with the module's default algorithm and with ``"reference"``).

Keras chooses the output length itself (``ke`` dilated kernel, ``op`` output_padding):
``same`` without op ``i*s``, ``same`` with op ``(i-1)*s + ke%2 + op``, ``valid`` without op
``(i-1)*s + max(ke, s)``, ``valid`` with op ``L + op``, and crops with TF's SAME/VALID rule for it.
Under ``same`` that is not ONNX's output_padding (ONNX: length ``i*s``, the ``op`` zeros appended
before the SAME crop); the cases flagged ``differs_from_onnx`` check that passing output_padding
on unchanged would be wrong, so that the import is seen to translate it.

Not testable with the TensorFlow backend on the CPU, and left out (see ``test_dilated``):

* ``same`` with an even dilated kernel and ``op = 0``: Keras asks TF for ``(i-1)*s`` samples, which
  TF's SAME cannot produce (``ceil(n / s) != i``); Keras itself fails with InvalidArgumentError.
* dilation > 1: Keras rejects it with strides > 1 (ValueError), and TF's CPU kernel rejects any
  dilation rate > 1 with stride 1.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest
import torch

from .conftest import require

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
require("tensorflow", "Keras's TensorFlow backend")
keras = require("keras")

import tconv  # noqa: E402

from .conftest import (  # noqa: E402
    assert_matches,
    case_id,
    channels_first,
    channels_last,
    random_array,
    run_tconv,
    stable_seed,
)

pytestmark = pytest.mark.interop

LAYERS = {1: "Conv1DTranspose", 2: "Conv2DTranspose", 3: "Conv3DTranspose"}


@dataclass(frozen=True)
class KerasCase:
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    output_padding: Optional[tuple[int, ...]] = None
    use_bias: bool = True
    dilation: int = 1
    differs_from_onnx: bool = False
    batch: int = 2
    in_channels: int = 3
    filters: int = 2

    @property
    def ndim(self) -> int:
        return len(self.size)

    def __str__(self) -> str:
        text = case_id(i=self.size, k=self.kernel, s=self.strides, pad=self.padding, op=self.output_padding)
        if self.dilation > 1:
            text += f"-d{self.dilation}"
        return text + ("-bias" if self.use_bias else "-nobias")


def _tf_can_run(case: KerasCase) -> bool:
    """False for ``same`` + even dilated kernel + ``op = 0`` (TF's SAME cannot give (i-1)*s)."""
    if case.padding != "same" or case.output_padding is None:
        return True
    return all(((k - 1) * case.dilation + 1) % 2 or op for k, op in zip(case.kernel, case.output_padding))


def _cases() -> list[KerasCase]:
    cases = [
        # output_padding under "same": Keras' meaning differs from ONNX's.
        KerasCase((5,), (3,), (2,), "same", (1,), differs_from_onnx=True),  # same length, shifted by one
        KerasCase((4,), (4,), (2,), "same", (1,), differs_from_onnx=True),  # 2i-1 instead of 2i
        KerasCase((5,), (3,), (3,), "same", (1,), use_bias=False, differs_from_onnx=True),
        KerasCase((4,), (3,), (3,), "same", (2,), differs_from_onnx=True),
        KerasCase((6,), (4,), (3,), "same", (2,), differs_from_onnx=True),
        KerasCase((5,), (5,), (3,), "same", (2,), use_bias=False, differs_from_onnx=True),
        KerasCase((5, 4), (3, 4), (2, 3), "same", (1, 2), differs_from_onnx=True),
        KerasCase((3, 4, 2), (3, 2, 5), (2, 2, 3), "same", (1, 1, 2), differs_from_onnx=True),
        # stride > kernel: the window runs past the full output.
        KerasCase((5,), (1,), (2,), "same", (1,)),
        KerasCase((4,), (2,), (3,), "same", (1,), use_bias=False),
        KerasCase((4,), (2,), (3,), "valid"),  # (i-1)*s + max(ke, s)
        KerasCase((4,), (2,), (3,), "valid", (0,)),  # L: an explicit 0 is not "None"
        KerasCase((4,), (2,), (3,), "valid", (2,)),
        # no output_padding, odd and even kernels and inputs.
        KerasCase((6,), (4,), (2,), "same"),
        KerasCase((7,), (3,), (3,), "same", use_bias=False),
        KerasCase((5, 6), (2, 3), (2, 1), "same"),
        KerasCase((5, 6), (5, 2), (3, 2), "valid", use_bias=False),
        KerasCase((5, 6), (3, 3), (2, 2), "valid", (1, 0)),
        KerasCase((2, 3, 3), (2, 3, 1), (2, 1, 3), "same", use_bias=False),
        KerasCase((3, 2, 3), (3, 1, 2), (1, 2, 2), "valid", (0, 1, 1)),
    ]
    rng = random.Random(20240612)
    while len(cases) < 34:
        ndim = rng.choice((1, 1, 2, 2, 3))
        size = tuple(rng.randint(1, 6 if ndim < 3 else 3) for _ in range(ndim))
        kernel = tuple(rng.randint(1, 5 if ndim < 3 else 3) for _ in range(ndim))
        strides = tuple(rng.randint(1, 3) for _ in range(ndim))
        output_padding = tuple(rng.randrange(s) for s in strides) if rng.random() < 0.5 else None
        case = KerasCase(
            size,
            kernel,
            strides,
            rng.choice(("same", "valid")),
            output_padding,
            use_bias=rng.random() < 0.5,
            batch=rng.randint(1, 2),
        )
        if _tf_can_run(case):
            cases.append(case)
    return cases


CASES = _cases()
assert all(_tf_can_run(case) for case in CASES)


def _layer(case: KerasCase):
    layer = getattr(keras.layers, LAYERS[case.ndim])(
        case.filters,
        case.kernel,
        strides=case.strides,
        padding=case.padding,
        output_padding=case.output_padding,
        dilation_rate=case.dilation,
        use_bias=case.use_bias,
    )
    layer.build((case.batch, *case.size, case.in_channels))
    seed = stable_seed(str(case))
    weights = [random_array((*case.kernel, case.filters, case.in_channels), seed + 1)]
    if case.use_bias:
        weights.append(random_array((case.filters,), seed + 2))
    layer.set_weights(weights)
    return layer


def _compare(case: KerasCase) -> None:
    x = random_array((case.batch, case.in_channels, *case.size), stable_seed(str(case)))
    layer = _layer(case)
    expected = channels_first(layer(channels_last(x)))
    module = tconv.from_keras(layer.get_config(), layer.get_weights())
    for algorithm in ("auto", "reference"):
        module.algorithm = algorithm
        with torch.no_grad():
            actual = module(torch.from_numpy(x)).numpy()
        assert_matches(actual, expected, f"{case} algorithm={algorithm}", weight=module.weight.detach())

    if case.differs_from_onnx:
        # The same numbers read as ONNX (SAME_UPPER + output_padding) give another result.
        kernel, *bias = layer.get_weights()
        w = tconv.convert_weight(kernel, "keras", "torch", transposed=True).numpy()
        onnx_meaning = run_tconv(
            x, w, bias[0] if bias else None, stride=case.strides, padding="same", output_padding=case.output_padding
        )
        assert onnx_meaning.shape != expected.shape or not np.allclose(onnx_meaning, expected, rtol=1e-3, atol=1e-3), (
            f"{case}: not a discriminating case, ONNX's output_padding gives Keras' result"
        )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose_layer(case: KerasCase) -> None:
    _compare(case)


@pytest.mark.parametrize(
    "case",
    [
        KerasCase((6,), (3,), (1,), "same", dilation=2),
        KerasCase((5, 4), (2, 3), (1, 1), "valid", dilation=2, use_bias=False),
        KerasCase((5,), (3,), (1,), "same", (0,), dilation=3),
    ],
    ids=str,
)
def test_dilated(case: KerasCase) -> None:
    """Dilated layers (Keras allows dilation only with stride 1); skipped where TF cannot run them."""
    try:
        _compare(case)
    except Exception as error:  # Keras wraps TF's InvalidArgumentError in its own message
        reason = re.search(r"[^}]*dilation rates larger than 1", str(error))
        if reason is None:
            raise
        pytest.skip(
            f"Keras (TensorFlow backend) cannot run a dilated {LAYERS[case.ndim]} on this device: "
            f"{reason.group(0).strip()}"
        )


def test_keras_rejects_dilation_with_strides() -> None:
    """The limit the dilated cases above respect (so they do not silently test less)."""
    with pytest.raises(ValueError, match="dilation_rate"):
        keras.layers.Conv1DTranspose(2, 3, strides=2, dilation_rate=2)
