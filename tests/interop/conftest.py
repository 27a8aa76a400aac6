"""Shared helpers of the live conformance tests against TensorFlow, Keras, ONNX Runtime and JAX.

Every test in this folder runs the same seeded float32 data through a real framework and through
``tconv`` and compares the two: the shapes exactly, the values to ``1e-4`` of the output's scale.
The frameworks are optional (the ``interop`` extra); each module skips itself, with a reason, when
its framework is missing.
"""

from __future__ import annotations

import itertools
import os
import zlib
from typing import Iterable, Optional, Sequence

import numpy as np
import pytest
import torch

import tconv

# Before any framework is imported (by any module of this folder): quiet TensorFlow's C++ logging
# and keep JAX on the CPU, whatever accelerator the machine has.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

#: tconv's algorithms checked live: PyTorch's kernels plus the window, and the float64 definition.
ALGORITHMS = ("native", "reference")

#: Largest error allowed, relative to the largest magnitude of the framework's output.
RELATIVE_TOLERANCE = 1e-4

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


def assert_matches(actual: object, expected: object, context: str = "") -> None:
    """Shapes equal exactly; values within :data:`RELATIVE_TOLERANCE` of ``expected``'s scale.

    ``actual`` is tconv's result, ``expected`` the framework's; ``context`` names the case.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    where = f" [{context}]" if context else ""
    assert actual.shape == expected.shape, f"shape: tconv {actual.shape}, framework {expected.shape}{where}"
    if not expected.size:
        return
    scale = max(float(np.abs(expected).max()), 1e-6)
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = float(difference.max())
    if worst > RELATIVE_TOLERANCE * scale:
        index = np.unravel_index(int(difference.argmax()), difference.shape)
        bad = np.argwhere(difference > RELATIVE_TOLERANCE * scale)
        raise AssertionError(
            f"values differ{where}: max |diff| {worst:.3g} at {tuple(int(i) for i in index)} "
            f"(tconv {actual[index]:.6g}, framework {expected[index]:.6g}; output scale {scale:.3g}); "
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
