"""tconv against ONNX ``ConvTranspose`` run by ONNX Runtime (CPU provider), live.

Single-node models (opset 17, IR version 9) are built with ``onnx.helper``; the ONNX weight layout
is PyTorch's ``(Cin, Cout/group, k...)``. The ONNX spec (``ConvTranspose`` doc) and tconv's
equivalents:

=====================================  ====================================================
ONNX                                   tconv
=====================================  ====================================================
NOTSET, ``pads`` (b1.., e1..)          ``padding=((b1, e1), ...)``, ``output_padding``
NOTSET, ``output_shape`` n             ``padding="same_lower"``, ``output_size=n`` (the spec
                                       gives the odd pad to the start unless SAME_UPPER)
SAME_UPPER / SAME_LOWER (+ n)          ``"same"`` / ``"same_lower"`` (+ ``output_size=n``)
VALID                                  ``"valid"``
=====================================  ====================================================

with ``total = L + op - n`` (``op`` output_padding; without ``output_shape``, SAME's ``n = i*s``).

Excluded, with the reasons:

* ``total < 0`` (SAME without output_shape when ``s > ke + op``, or an output_shape above
  ``L + op``): the spec would need negative pads, so it is no spec case. ONNX Runtime clamps
  ``total`` to 0: without output_shape it then returns ``L + op`` samples where the spec's SAME
  says ``i*s`` (tconv: ``i*s``, the last ones zeros); with an output_shape it zero-extends, which
  is tconv's window model (``test_negative_total_with_output_shape``, beyond the spec).
* ``op >= stride`` (legal in the spec when ``op < dilation``): ONNX Runtime 1.31 rejects it
  ("output_padding (1) may be too large for stride (1)").

``test_output_shape_beyond_tf_range_*`` cover the output_shape values the spec defines outside
TensorFlow's range ``(i-1)*s+1 … i*s`` (tconv's ``"same"``/``"same_lower"`` take them too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pytest

from .conftest import require

onnx = require("onnx")
ort = require("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from .conftest import (  # noqa: E402
    assert_matches,
    case_id,
    full_length,
    product,
    random_array,
    run_tconv,
    stable_seed,
)

pytestmark = pytest.mark.interop

OPSET = 17
IR_VERSION = 9

#: auto_pad values, and NOTSET split by what sets the padding.
MODES = (
    "pads",
    "output_shape",
    "SAME_UPPER",
    "SAME_LOWER",
    "SAME_UPPER+output_shape",
    "SAME_LOWER+output_shape",
    "VALID",
)


def run_onnxruntime(x: np.ndarray, w: np.ndarray, b: Optional[np.ndarray], **attributes: object) -> np.ndarray:
    """One ConvTranspose node in ONNX Runtime's CPU provider."""
    rank = x.ndim
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, list(w.shape)),
    ]
    feeds = {"x": x, "w": w}
    if b is not None:
        inputs.append(helper.make_tensor_value_info("b", TensorProto.FLOAT, list(b.shape)))
        feeds["b"] = b
    node = helper.make_node("ConvTranspose", list(feeds), ["y"], **attributes)
    graph = helper.make_graph(
        [node], "conv_transpose", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * rank)]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


@dataclass(frozen=True)
class OnnxCase:
    mode: str
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    output_padding: tuple[int, ...]
    pads: Optional[tuple[tuple[int, int], ...]] = None  # mode "pads" only; None: attribute left out
    group: int = 1
    bias: bool = False
    batch: int = 2
    in_per_group: int = 2
    out_per_group: int = 2

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def full(self) -> tuple[int, ...]:
        return tuple(full_length(*a) for a in zip(self.size, self.kernel, self.stride, self.dilation))

    @property
    def with_output_shape(self) -> bool:
        return self.mode.endswith("output_shape")

    def totals(self, output_size: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(L + op - n for L, op, n in zip(self.full, self.output_padding, output_size))

    def output_sizes(self) -> list[Optional[tuple[int, ...]]]:
        """The output_shape values to try: tconv's legal SAME sizes ``(i-1)*s+1 … i*s`` whose
        ``total`` is not negative; ``[None]`` for the modes without output_shape."""
        if not self.with_output_shape:
            return [None]
        ranges = []
        for i, s, L, op in zip(self.size, self.stride, self.full, self.output_padding):
            ranges.append([n for n in range((i - 1) * s + 1, i * s + 1) if L + op - n >= 0])
        return product(ranges)

    def is_spec_case(self) -> bool:
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            return False  # ONNX Runtime rejects op >= stride
        if self.mode in ("SAME_UPPER", "SAME_LOWER"):
            return min(self.totals(tuple(i * s for i, s in zip(self.size, self.stride)))) >= 0
        if self.with_output_shape:
            return bool(self.output_sizes())
        if self.mode == "pads" and self.pads:
            return all(L + op - pb - pe >= 1 for L, op, (pb, pe) in zip(self.full, self.output_padding, self.pads))
        return True

    def attributes(self, output_size: Optional[tuple[int, ...]]) -> dict:
        attributes = {
            "kernel_shape": list(self.kernel),
            "strides": list(self.stride),
            "dilations": list(self.dilation),
            "output_padding": list(self.output_padding),
            "group": self.group,
        }
        if self.mode == "pads":
            if self.pads is not None:
                attributes["pads"] = [pb for pb, _ in self.pads] + [pe for _, pe in self.pads]
        elif self.mode == "output_shape":
            pass  # auto_pad NOTSET (the default)
        else:
            attributes["auto_pad"] = self.mode.split("+")[0]
        if output_size is not None:
            attributes["output_shape"] = list(output_size)
        return attributes

    def tconv_kwargs(self, output_size: Optional[tuple[int, ...]]) -> dict:
        padding = {
            "pads": self.pads if self.pads is not None else 0,
            "output_shape": "same_lower",
            "SAME_UPPER": "same",
            "SAME_LOWER": "same_lower",
            "SAME_UPPER+output_shape": "same",
            "SAME_LOWER+output_shape": "same_lower",
            "VALID": "valid",
        }[self.mode]
        kwargs = dict(
            stride=self.stride,
            dilation=self.dilation,
            padding=padding,
            output_padding=self.output_padding,
            groups=self.group,
        )
        if output_size is not None:
            kwargs["output_size"] = output_size
        return kwargs

    def __str__(self) -> str:
        fields = dict(i=self.size, k=self.kernel, s=self.stride, d=self.dilation, op=self.output_padding)
        if self.mode == "pads":
            fields["pads"] = self.pads if self.pads is not None else "absent"
        if self.group > 1:
            fields["g"] = self.group
        return self.mode + "-" + case_id(**fields) + ("-bias" if self.bias else "")


def _random_case(rng: random.Random, mode: str, ndim: int) -> OnnxCase:
    size = tuple(rng.randint(1, 6 if ndim < 3 else 3) for _ in range(ndim))
    kernel = tuple(rng.randint(1, 4 if ndim < 3 else 3) for _ in range(ndim))
    stride = tuple(rng.randint(1, 3) for _ in range(ndim))
    dilation = tuple(rng.choice((1, 1, 2)) for _ in range(ndim))
    output_padding = tuple(rng.randrange(s) if rng.random() < 0.5 else 0 for s in stride)
    pads = None
    if mode == "pads":
        pairs = []
        for i, k, s, d, op in zip(size, kernel, stride, dilation, output_padding):
            room = full_length(i, k, s, d) + op - 1
            pb = rng.randint(0, min(room, (k - 1) * d + 1))
            pairs.append((pb, rng.randint(0, min(room - pb, (k - 1) * d + 1))))
        pads = tuple(pairs)
    group = rng.choice((1, 1, 2, 3))
    return OnnxCase(
        mode,
        size,
        kernel,
        stride,
        dilation,
        output_padding,
        pads,
        group=group,
        bias=rng.random() < 0.5,
        batch=rng.randint(1, 2),
    )


def _cases() -> list[OnnxCase]:
    cases = [
        OnnxCase("pads", (5,), (3,), (2,), (1,), (1,), ((1, 2),), bias=True),
        OnnxCase("pads", (4, 5), (3, 2), (2, 3), (2, 1), (1, 2), ((0, 3), (2, 0)), group=2),
        OnnxCase("pads", (3, 2, 3), (2, 3, 2), (2, 1, 3), (1, 2, 1), (1, 0, 2), ((1, 0), (2, 3), (0, 1)), bias=True),
        OnnxCase("pads", (4,), (2,), (3,), (1,), (0,), None),  # no pads attribute: zeros
        OnnxCase("output_shape", (5,), (4,), (2,), (1,), (1,), bias=True),
        OnnxCase("output_shape", (4, 3), (3, 5), (3, 2), (1, 2), (2, 0), group=3),
        OnnxCase("output_shape", (2, 3, 2), (3, 2, 2), (2, 3, 2), (1, 1, 2), (0, 2, 1)),
        OnnxCase("SAME_UPPER", (5,), (4,), (2,), (1,), (1,), bias=True),
        OnnxCase("SAME_UPPER", (4, 5), (3, 2), (3, 2), (2, 1), (2, 0), group=2),
        OnnxCase("SAME_LOWER", (5,), (4,), (2,), (1,), (1,)),
        OnnxCase("SAME_LOWER", (3, 4, 2), (2, 3, 3), (2, 2, 3), (1, 2, 1), (1, 0, 2), bias=True),
        OnnxCase("SAME_UPPER+output_shape", (5, 4), (3, 4), (3, 2), (1, 1), (1, 1), bias=True),
        OnnxCase("SAME_LOWER+output_shape", (5, 4), (3, 4), (3, 2), (1, 1), (1, 1)),
        OnnxCase("SAME_LOWER+output_shape", (3,), (2,), (3,), (2,), (2,), group=2),
        OnnxCase("VALID", (5,), (2,), (3,), (1,), (2,), bias=True),
        OnnxCase("VALID", (3, 4), (3, 2), (1, 2), (2, 2), (0, 1), group=2),
        OnnxCase("VALID", (2, 3, 2), (2, 2, 3), (3, 1, 2), (1, 1, 1), (2, 0, 1)),
    ]
    rng = random.Random(20240613)
    for mode in MODES:
        added = 0
        while added < 4:
            case = _random_case(rng, mode, rng.choice((1, 2, 2, 3)))
            if case.is_spec_case():
                cases.append(case)
                added += 1
    return cases


CASES = _cases()
assert all(case.is_spec_case() for case in CASES), [str(c) for c in CASES if not c.is_spec_case()]


def _data(case: OnnxCase) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    seed = stable_seed(str(case))
    cin, cout = case.in_per_group * case.group, case.out_per_group * case.group
    x = random_array((case.batch, cin, *case.size), seed)
    w = random_array((cin, case.out_per_group, *case.kernel), seed + 1)
    b = random_array((cout,), seed + 2) if case.bias else None
    return x, w, b


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose(case: OnnxCase, algorithm: str) -> None:
    x, w, b = _data(case)
    for output_size in case.output_sizes():
        expected = run_onnxruntime(x, w, b, **case.attributes(output_size))
        if output_size is not None:
            assert expected.shape[2:] == output_size
        actual = run_tconv(x, w, b, algorithm=algorithm, **case.tconv_kwargs(output_size))
        assert_matches(actual, expected, f"{case} output_shape={output_size} algorithm={algorithm}", weight=w)


# ONNX NOTSET + output_shape is spec-defined for every n with total = L + op - n >= 0, e.g. n above
# i*s when the kernel is longer than the stride, or n below (i-1)*s + 1 (ONNX Runtime runs them).
# tconv's "same"/"same_lower" accept only TensorFlow's range (i-1)*s+1 … i*s as output_size.
BEYOND_TF_RANGE = [
    OnnxCase("output_shape", (4,), (3,), (1,), (1,), (0,)),  # n = 5, 6 > i*s = 4
    OnnxCase("output_shape", (3,), (5,), (2,), (1,), (1,)),  # n = 7..10 > i*s = 6; n = 1..4 < 5
    OnnxCase("SAME_UPPER+output_shape", (4,), (3,), (2,), (2,), (1,)),
]


def _beyond_sizes(case: OnnxCase) -> list[int]:
    (i,), (s,), (L,), (op,) = case.size, case.stride, case.full, case.output_padding
    return [n for n in range(1, L + op + 1) if not (i - 1) * s + 1 <= n <= i * s]


@pytest.mark.parametrize("case", BEYOND_TF_RANGE, ids=str)
def test_output_shape_beyond_tf_range_via_explicit_pads(case: OnnxCase) -> None:
    """The spec's pads for those sizes, given to tconv explicitly, reproduce ONNX Runtime."""
    x, w, b = _data(case)
    upper = case.mode.startswith("SAME_UPPER")
    for n in _beyond_sizes(case):
        (total,) = case.totals((n,))
        begin = total // 2 if upper else total - total // 2
        expected = run_onnxruntime(x, w, b, **case.attributes((n,)))
        kwargs = case.tconv_kwargs(None) | {"padding": ((begin, total - begin),)}
        assert_matches(run_tconv(x, w, b, **kwargs), expected, f"{case} output_shape={n}", weight=w)


@pytest.mark.parametrize("case", BEYOND_TF_RANGE, ids=str)
def test_output_shape_beyond_tf_range_as_same_lower(case: OnnxCase) -> None:
    """ONNX defines output_shape for any n <= L + op; tconv's "same"/"same_lower" take them all."""
    x, w, b = _data(case)
    for n in _beyond_sizes(case):
        expected = run_onnxruntime(x, w, b, **case.attributes((n,)))
        assert_matches(run_tconv(x, w, b, **case.tconv_kwargs((n,))), expected, f"{case} output_shape={n}", weight=w)


# Beyond the spec: SAME/NOTSET with an output_shape that needs negative pads (total < 0). ONNX
# Runtime clamps the pads to 0 and zero-extends the output to the requested size, which is what
# tconv's window does (it runs past the full output). Without output_shape ONNX Runtime returns
# L + op samples instead (excluded above).
NEGATIVE_TOTAL = [
    OnnxCase("output_shape", (3,), (1,), (3,), (1,), (0,), bias=True),
    OnnxCase("SAME_UPPER+output_shape", (3, 4), (2, 1), (3, 2), (1, 2), (1, 0)),
    OnnxCase("SAME_LOWER+output_shape", (2, 3, 2), (1, 2, 1), (3, 3, 2), (1, 1, 1), (1, 0, 1), group=2, bias=True),
]


@pytest.mark.parametrize("case", NEGATIVE_TOTAL, ids=str)
def test_negative_total_with_output_shape(case: OnnxCase, algorithm: str) -> None:
    x, w, b = _data(case)
    sizes = [
        n
        for n in product(range((i - 1) * s + 1, i * s + 1) for i, s in zip(case.size, case.stride))
        if min(case.totals(n)) < 0
    ]
    assert sizes, f"{case}: no output_shape with a negative total"
    for output_size in sizes:
        expected = run_onnxruntime(x, w, b, **case.attributes(output_size))
        actual = run_tconv(x, w, b, algorithm=algorithm, **case.tconv_kwargs(output_size))
        assert_matches(actual, expected, f"{case} output_shape={output_size} algorithm={algorithm}", weight=w)
