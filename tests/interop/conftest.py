"""Shared helpers of the live conformance tests against TensorFlow, Keras, ONNX Runtime and JAX.

Every test in this folder runs the same seeded float32 data through a real framework and through
``tconv`` and compares the two: the shapes exactly, the values to :func:`allowed_difference` of the
output's scale (twice the float32 tolerance of the op's longest sum: each side is a float32 result
within :func:`tconv.core.testing.tolerance` of the exact one).
The frameworks are the ``interop`` extra. Each module imports its framework with :func:`require`:
where it is missing, the module skips itself with a reason, unless ``TCONV_REQUIRE_INTEROP=1``
(set by the README's test command, which CI runs) makes a missing framework a failure, so that a
broken install cannot leave CI green with the peers unchecked. A framework's own refusal of a case
(TensorFlow's CPU kernels refusing dilation) stays a skip, with its reason, in the test concerned.
"""

from __future__ import annotations

import importlib
import itertools
import math
import os
import zlib
from types import ModuleType
from typing import Iterable, Optional, Sequence

import numpy as np
import pytest
import torch

import tconv
from tconv.core.testing import tolerance

# Before any framework is imported (by any module of this folder): quiet TensorFlow's C++ logging
# and keep JAX on the CPU, whatever accelerator the machine has.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

#: The environment variable that turns a missing framework from a skip into a failure ("1").
REQUIRE_INTEROP = "TCONV_REQUIRE_INTEROP"

#: How to install every framework the interop tests need.
INSTALL = 'pip install -e ".[interop]"'


def require(name: str, purpose: str = "") -> ModuleType:
    """Import the framework ``name`` for the interop tests of the calling module and return it.

    Where it cannot be imported (missing, or a broken install), the calling module is skipped,
    with the reason, or, when the environment sets ``TCONV_REQUIRE_INTEROP=1``, fails: a missing
    framework is then an error of the test environment, not a case the tests may pass over.
    ``purpose`` says what needs it, when that is not the interop tests as a whole.
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = (
            f"{name} cannot be imported ({error}); it is needed by {purpose or 'the interop tests'}: "
            f"install the 'interop' extra ({INSTALL})"
        )
        if os.environ.get(REQUIRE_INTEROP) == "1":
            pytest.fail(f"{message}; {REQUIRE_INTEROP}=1 makes a missing framework a failure", pytrace=False)
        pytest.skip(message, allow_module_level=True)


#: tconv's algorithms checked live: PyTorch's kernels plus the window, and the float64 definition.
ALGORITHMS = ("native", "reference")


def allowed_difference(weight: object) -> float:
    """The largest difference allowed between tconv's float32 output and a framework's, relative to
    the framework's largest magnitude, for a transposed convolution with this torch-layout weight
    ``(Cin, Cout / groups, *kernel)``: twice :func:`tconv.core.testing.tolerance` of float32 for
    ``Cin * taps`` terms, a bound of the longest sum of products in one output (each side is within
    the tolerance of the exact result, so they are within twice it of each other)."""
    shape = tuple(np.shape(weight))
    return 2 * tolerance(torch.float32, shape[0] * math.prod(shape[2:]))


_CONV_TRANSPOSE = {1: tconv.conv_transpose1d, 2: tconv.conv_transpose2d, 3: tconv.conv_transpose3d}


def random_array(shape: Sequence[int], seed: int) -> np.ndarray:
    """Standard-normal float32 data, the same for the same ``(shape, seed)``."""
    return np.random.default_rng(seed).standard_normal(tuple(shape)).astype(np.float32)


def stable_seed(*parts: object) -> int:
    """A seed from a case's description, the same in every process (unlike ``hash``)."""
    return zlib.crc32(repr(parts).encode())


def channels_last(array: np.ndarray) -> np.ndarray:
    """``(N, C, *spatial)`` -> ``(N, *spatial, C)``, contiguous."""
    return np.ascontiguousarray(np.moveaxis(array, 1, -1))


def channels_first(array: object) -> np.ndarray:
    """``(N, *spatial, C)`` (a numpy array or a framework tensor) -> ``(N, C, *spatial)``."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(array), -1, 1))


def run_tconv(
    input: np.ndarray,
    weight: np.ndarray,
    bias: Optional[np.ndarray] = None,
    *,
    algorithm: str = "auto",
    **kwargs: object,
) -> np.ndarray:
    """``tconv.conv_transpose{1,2,3}d`` on numpy data (channels-first input, torch-layout weight)."""
    ndim = input.ndim - 2
    out = _CONV_TRANSPOSE[ndim](
        torch.from_numpy(np.ascontiguousarray(input)),
        torch.from_numpy(np.ascontiguousarray(weight)) if isinstance(weight, np.ndarray) else weight,
        None if bias is None else torch.from_numpy(np.ascontiguousarray(bias)),
        algorithm=algorithm,
        **kwargs,
    )
    return out.detach().numpy()


def assert_matches(actual: object, expected: object, context: str = "", *, weight: object) -> None:
    """Shapes equal exactly; values within :func:`allowed_difference` for ``weight`` (the op's
    torch-layout weight) of ``expected``'s scale.

    ``actual`` is tconv's result, ``expected`` the framework's; ``context`` names the case.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    where = f" [{context}]" if context else ""
    assert actual.shape == expected.shape, f"shape: tconv {actual.shape}, framework {expected.shape}{where}"
    if not expected.size:
        return
    scale = max(float(np.abs(expected).max()), 1e-6)
    allowed = allowed_difference(weight) * scale
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = float(difference.max())
    if worst > allowed:
        index = np.unravel_index(int(difference.argmax()), difference.shape)
        bad = np.argwhere(difference > allowed)
        raise AssertionError(
            f"values differ{where}: max |diff| {worst:.3g} at {tuple(int(i) for i in index)} "
            f"(tconv {actual[index]:.6g}, framework {expected[index]:.6g}; output scale {scale:.3g}, "
            f"allowed {allowed:.3g}); "
            f"{len(bad)} of {expected.size} elements off; per spatial axis the differing indices span "
            + ", ".join(f"{int(bad[:, axis].min())}..{int(bad[:, axis].max())}" for axis in range(2, expected.ndim))
        )


def full_length(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """``L = (i - 1) * s + (k - 1) * d + 1``, the full transposed-convolution output."""
    return (size - 1) * stride + (kernel - 1) * dilation + 1


def product(per_axis: Iterable[Iterable[int]]) -> list[tuple[int, ...]]:
    """Every combination of the per-axis choices, as tuples."""
    return list(itertools.product(*per_axis))


def case_id(**fields: object) -> str:
    """A readable, stable pytest id: ``key=value`` pairs, tuples without spaces."""

    def text(value: object) -> str:
        if isinstance(value, (tuple, list)):
            return (
                "x".join(text(v) for v in value)
                if all(isinstance(v, int) for v in value)
                else "(" + ",".join(text(v) for v in value) + ")"
            )
        return str(value)

    return "-".join(f"{key}{text(value)}" for key, value in fields.items())


@pytest.fixture(params=ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once with each of tconv's algorithms."""
    return request.param
