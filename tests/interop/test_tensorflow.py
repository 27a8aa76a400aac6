"""tconv against TensorFlow's ``tf.nn.conv{1,2,3}d_transpose``, live.

TensorFlow requires ``output_shape``; every legal one is checked for each configuration:

* ``SAME``: ``(i-1)*s + 1 … i*s`` per axis (the forward SAME conv of it gives back ``i``);
* ``VALID``: ``L … L+s-1``;
* explicit ``(pb, pe)`` per axis: ``L-pb-pe … L-pb-pe+s-1``. Only ``conv2d_transpose`` takes
  explicit padding: ``conv1d_transpose`` and ``conv3d_transpose`` pass ``padding`` straight to ops
  whose ``padding`` attribute is a string (TypeError for a list).

tconv is called with the same padding word (``"same"``, ``"valid"``, or the ``(pb, pe)`` pairs)
and ``output_size``. Data is NHWC in TensorFlow, NCHW in tconv; the TF filter ``(k..., out, in)``
is converted with ``tconv.convert_weight(..., "tf", "torch", transposed=True)``.

Dilation: TensorFlow's CPU kernels of these ops reject any dilation rate > 1 ("Current CPU
implementations do not yet support dilation rates larger than 1"), with any stride, eagerly and
in ``tf.function``. The dilated test therefore skips where TF cannot run it (it runs on a TF build
that can). ``tf.nn.atrous_conv2d_transpose`` (stride 1, rate = dilation; built on
space-to-batch, not on the dilated kernel) does run on the CPU and is checked against tconv's
``dilation``.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass

import numpy as np
import pytest

from .conftest import require

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = require("tensorflow")

import tconv  # noqa: E402

from .conftest import (  # noqa: E402
    assert_matches,
    case_id,
    channels_first,
    channels_last,
    full_length,
    product,
    random_array,
    run_tconv,
    stable_seed,
)

pytestmark = pytest.mark.interop

TF_OPS = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose, 3: tf.nn.conv3d_transpose}


@dataclass(frozen=True)
class TFCase:
    """One TF configuration; ``padding`` is "SAME", "VALID" or one ``(pb, pe)`` pair per axis."""

    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: object
    batch: int = 2
    in_channels: int = 3
    out_channels: int = 2

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def full(self) -> tuple[int, ...]:
        return tuple(full_length(i, k, s) for i, k, s in zip(self.size, self.kernel, self.stride))

    def legal_sizes(self, axis: int) -> range:
        """TensorFlow's legal output lengths on one axis (derived here, not taken from tconv)."""
        i, s, full = self.size[axis], self.stride[axis], self.full[axis]
        if self.padding == "SAME":
            return range((i - 1) * s + 1, i * s + 1)
        if self.padding == "VALID":
            return range(full, full + s)
        pb, pe = self.padding[axis]
        return range(full - pb - pe, full - pb - pe + s)

    def output_sizes(self) -> list[tuple[int, ...]]:
        return product(self.legal_sizes(axis) for axis in range(self.ndim))

    @property
    def tconv_padding(self) -> object:
        return self.padding.lower() if isinstance(self.padding, str) else self.padding

    @property
    def tf_padding(self) -> object:
        if isinstance(self.padding, str):
            return self.padding
        return [[0, 0], *[list(pair) for pair in self.padding], [0, 0]]

    def __str__(self) -> str:
        return case_id(i=self.size, k=self.kernel, s=self.stride, pad=self.padding)


def _explicit(rng: random.Random, size, kernel, stride) -> tuple[tuple[int, int], ...]:
    """Random crops (pb, pe), from 0 to past the kernel, that leave at least one sample."""
    pairs = []
    for i, k, s in zip(size, kernel, stride):
        full = full_length(i, k, s)
        pb = rng.randint(0, min(k, full - 1))
        pairs.append((pb, rng.randint(0, min(k, full - 1 - pb))))
    return tuple(pairs)


def _cases() -> list[TFCase]:
    # Hand-picked: odd and even inputs, kernels 1..5, strides 1..3, stride > kernel, input 1.
    cases = [
        TFCase((5,), (1,), (3,), "SAME"),
        TFCase((6,), (4,), (2,), "SAME"),
        TFCase((1,), (3,), (2,), "SAME"),
        TFCase((7,), (5,), (3,), "VALID"),
        TFCase((4,), (2,), (3,), "VALID"),
        TFCase((5, 4), (3, 2), (2, 3), "SAME"),
        TFCase((4, 5), (5, 1), (3, 1), "VALID"),
        TFCase((5, 6), (3, 4), (2, 2), ((1, 2), (0, 3))),
        TFCase((3, 4), (2, 5), (3, 2), ((0, 0), (4, 1))),
        TFCase((4, 3), (1, 3), (3, 1), ((0, 0), (1, 1))),
        TFCase((3, 4, 3), (3, 2, 1), (2, 1, 3), "SAME"),
        TFCase((2, 3, 4), (2, 3, 2), (1, 2, 2), "VALID"),
    ]
    # Seeded random ones on top.
    rng = random.Random(20240611)
    for ndim, count in ((1, 6), (2, 8), (3, 2)):
        for _ in range(count):
            size = tuple(rng.randint(1, 7 if ndim < 3 else 4) for _ in range(ndim))
            kernel = tuple(rng.randint(1, 5 if ndim < 3 else 3) for _ in range(ndim))
            stride = tuple(rng.randint(1, 3) for _ in range(ndim))
            kinds = ("SAME", "VALID", "explicit") if ndim == 2 else ("SAME", "VALID")
            kind = rng.choice(kinds)
            padding = _explicit(rng, size, kernel, stride) if kind == "explicit" else kind
            cases.append(TFCase(size, kernel, stride, padding, batch=rng.randint(1, 2)))
    return cases


CASES = _cases()


def _data(case: TFCase, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Channels-first input and TF-layout filter ``(k..., out, in)``."""
    x = random_array((case.batch, case.in_channels, *case.size), seed)
    w_tf = random_array((*case.kernel, case.out_channels, case.in_channels), seed + 1)
    return x, w_tf


def _tf(case: TFCase, x: np.ndarray, w_tf: np.ndarray, output_size: tuple[int, ...], dilation: int = 1) -> np.ndarray:
    output_shape = [case.batch, *output_size, case.out_channels]
    y = TF_OPS[case.ndim](
        channels_last(x), w_tf, output_shape, list(case.stride), padding=case.tf_padding, dilations=dilation
    )
    return channels_first(y.numpy())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose_every_output_shape(case: TFCase, algorithm: str) -> None:
    x, w_tf = _data(case, seed=stable_seed(str(case)))
    w = tconv.convert_weight(w_tf, "tf", "torch", transposed=True).numpy()
    sizes = case.output_sizes()
    assert sizes, f"{case}: no legal output shape"
    for output_size in sizes:
        expected = _tf(case, x, w_tf, output_size)
        assert expected.shape[2:] == output_size
        actual = run_tconv(
            x, w, stride=case.stride, padding=case.tconv_padding, output_size=output_size, algorithm=algorithm
        )
        assert_matches(actual, expected, f"{case} output_size={output_size} algorithm={algorithm}", weight=w)


@pytest.mark.parametrize("case", [c for c in CASES if c.ndim < 3 and c.padding != "SAME"], ids=str)
def test_output_shape_just_outside_the_legal_range_is_rejected_by_both(case: TFCase) -> None:
    """TF and tconv agree on where the legal output sizes end (one axis varied, the others legal).

    Under SAME tconv also takes the shorter sizes ONNX defines, so only VALID and explicit padding
    have the same bounds in both."""
    x, w_tf = _data(case, seed=7)
    w = tconv.convert_weight(w_tf, "tf", "torch", transposed=True).numpy()
    legal = case.legal_sizes(0)
    rest = tuple(case.legal_sizes(axis)[0] for axis in range(1, case.ndim))
    for n in (legal.start - 1, legal.stop):
        if n < 1:
            continue
        output_size = (n, *rest)
        with pytest.raises((tf.errors.InvalidArgumentError, ValueError)):
            _tf(case, x, w_tf, output_size)
        with pytest.raises(ValueError, match="output_size"):
            run_tconv(x, w, stride=case.stride, padding=case.tconv_padding, output_size=output_size)


DILATED = [
    TFCase((5,), (3,), (1,), "SAME"),
    TFCase((4, 5), (2, 3), (1, 1), "VALID"),
    TFCase((3, 4, 3), (2, 2, 3), (1, 1, 1), "SAME"),
    TFCase((5, 4), (3, 2), (2, 2), "SAME"),
]


@pytest.mark.parametrize("case", DILATED, ids=str)
def test_dilated_conv_transpose_where_tensorflow_runs_it(case: TFCase, algorithm: str) -> None:
    dilation = 2
    x, w_tf = _data(case, seed=11)
    w = tconv.convert_weight(w_tf, "tf", "torch", transposed=True).numpy()
    i, k, s = case.size, case.kernel, case.stride
    if case.padding == "SAME":
        output_size = tuple(a * b for a, b in zip(i, s))
    else:
        output_size = tuple(full_length(a, b, c, dilation) for a, b, c in zip(i, k, s))
    try:
        expected = _tf(case, x, w_tf, output_size, dilation=dilation)
    except tf.errors.InvalidArgumentError as error:
        if "dilation" not in error.message:
            raise
        reason = re.search(r"[^}]*dilation rates larger than 1", error.message)
        pytest.skip(
            f"TensorFlow cannot run a dilated conv{case.ndim}d_transpose on this device: "
            f"{(reason.group(0) if reason else error.message).strip()}"
        )
    actual = run_tconv(
        x, w, stride=s, dilation=dilation, padding=case.tconv_padding, output_size=output_size, algorithm=algorithm
    )
    assert_matches(actual, expected, f"{case} dilation={dilation}", weight=w)


ATROUS = [
    ((5, 6), (3, 3), 2, "SAME"),
    ((5, 6), (2, 4), 2, "SAME"),
    ((4, 5), (2, 3), 3, "SAME"),
    ((5, 6), (3, 2), 2, "VALID"),
    ((3, 4), (4, 1), 3, "VALID"),
]


@pytest.mark.parametrize(
    "size, kernel, rate, padding", ATROUS, ids=[case_id(i=i, k=k, rate=r, pad=p) for i, k, r, p in ATROUS]
)
def test_atrous_conv2d_transpose(size, kernel, rate, padding, algorithm: str) -> None:
    """TF's dilated transposed conv that runs on the CPU: stride 1, dilation ``rate``."""
    x = random_array((2, 3, *size), seed=rate)
    w_tf = random_array((*kernel, 4, 3), seed=rate + 1)
    w = tconv.convert_weight(w_tf, "tf", "torch", transposed=True).numpy()
    if padding == "SAME":
        output_size = size
    else:
        output_size = tuple(full_length(i, k, 1, rate) for i, k in zip(size, kernel))
    expected = channels_first(
        tf.nn.atrous_conv2d_transpose(channels_last(x), w_tf, [2, *output_size, 4], rate, padding).numpy()
    )
    actual = run_tconv(x, w, dilation=rate, padding=padding.lower(), algorithm=algorithm)
    assert_matches(actual, expected, f"atrous i={size} k={kernel} rate={rate} {padding}", weight=w)
