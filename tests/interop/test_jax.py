"""tconv against ``jax.lax.conv_transpose`` (CPU), live.

What JAX 0.10 does (``jax/_src/lax/convolution.py``): ``conv_transpose`` is
``conv_general_dilated(lhs, rhs, window_strides=1, padding=pads, lhs_dilation=strides,
rhs_dilation=rhs_dilation)``, a forward cross-correlation over the stride-dilated input, with
(``ke = (k - 1) * d + 1``):

* ``"SAME"``: pads ``(a, ke + s - 2 - a)`` with ``a = ke - 1`` if ``s > ke - 1`` else
  ``ceil((ke + s - 2) / 2)``: ``i*s`` samples beginning at ``(ke - s) // 2`` (0 when ``s >= ke``),
  which is tconv's ``"same"``;
* ``"VALID"``: pads ``(ke - 1, ke - 1 + max(s - ke, 0))``: ``(i-1)*s + max(ke, s)`` samples from
  the start, tconv's ``"valid"`` with ``output_padding = max(0, s - ke)``;
* explicit pairs ``(a, b)`` (default ``use_consistent_padding=False``) pad the dilated input, so
  ``(ke - 1, ke - 1)`` is the full output: tconv's crop ``(pb, pe)`` with output_padding ``op`` is
  JAX's ``(ke - 1 - pb, ke - 1 - pe + op)``; a crop beyond ``ke - 1`` is a negative JAX pad, which
  XLA accepts;
* explicit pairs with ``use_consistent_padding=True`` (newer JAX) are the forward conv's padding,
  i.e. PyTorch's: tconv's ``(pb, pe)`` unchanged.

Kernels: with ``transpose_kernel=False`` the kernel is the forward conv's, ``(k..., Cin, Cout)``
read as HWIO and spatially flipped: tconv's ``"jax"`` layout. With ``transpose_kernel=True`` JAX
flips it and swaps the I/O axes itself, so it takes TF's ``(k..., Cout, Cin)`` under HWIO, and
PyTorch's ``(Cin, Cout, k...)`` under OIHW. ``conv_transpose`` has no groups.
"""

from __future__ import annotations

import functools
import inspect
import os
import random
from dataclasses import dataclass

import numpy as np
import pytest

from .conftest import require

os.environ.setdefault("JAX_PLATFORMS", "cpu")
jax = require("jax")
jax.config.update("jax_platforms", "cpu")
from jax import lax  # noqa: E402

import tconv  # noqa: E402

from .conftest import (  # noqa: E402
    assert_matches,
    case_id,
    channels_first,
    channels_last,
    full_length,
    random_array,
    run_tconv,
    stable_seed,
)

pytestmark = pytest.mark.interop

HAS_CONSISTENT_PADDING = "use_consistent_padding" in inspect.signature(lax.conv_transpose).parameters
SPATIAL = {1: "H", 2: "HW", 3: "DHW"}
#: (data layout, kernel layout) of the dimension numbers.
LAYOUTS = ("NC-IO", "NC-OI", "NX-IO")


@dataclass(frozen=True)
class JaxCase:
    size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str  # "SAME", "VALID", "explicit" or "consistent"
    transpose_kernel: bool
    layout: str = "NC-IO"
    crops: tuple[tuple[int, int], ...] = ()  # tconv's (pb, pe) for "explicit" / "consistent"
    output_padding: tuple[int, ...] = ()  # "explicit" only
    batch: int = 2
    in_channels: int = 3
    out_channels: int = 2

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def effective_kernel(self) -> tuple[int, ...]:
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation))

    def dimension_numbers(self) -> tuple[str, str, str]:
        sp = SPATIAL[self.ndim]
        data = "NC" + sp if self.layout.startswith("NC") else "N" + sp + "C"
        kernel = sp + "IO" if self.layout.endswith("IO") else "OI" + sp
        return data, kernel, data

    def jax_padding(self) -> object:
        if self.padding in ("SAME", "VALID"):
            return self.padding
        if self.padding == "consistent":
            return tuple(self.crops)
        ops = self.output_padding or (0,) * self.ndim
        return tuple(
            (ke - 1 - pb, ke - 1 - pe + op) for ke, (pb, pe), op in zip(self.effective_kernel, self.crops, ops)
        )

    def tconv_kwargs(self) -> dict:
        kwargs = dict(stride=self.stride, dilation=self.dilation)
        if self.padding == "SAME":
            kwargs["padding"] = "same"
        elif self.padding == "VALID":
            kwargs["padding"] = "valid"
            kwargs["output_padding"] = tuple(max(0, s - ke) for s, ke in zip(self.stride, self.effective_kernel))
        else:
            kwargs["padding"] = self.crops
            if self.output_padding:
                kwargs["output_padding"] = self.output_padding
        return kwargs

    def __str__(self) -> str:
        fields = dict(i=self.size, k=self.kernel, s=self.stride, d=self.dilation, pad=self.padding)
        if self.crops:
            fields["crop"] = self.crops
        if any(self.output_padding):
            fields["op"] = self.output_padding
        return case_id(**fields) + f"-{self.layout}-tk{int(self.transpose_kernel)}"


def _random_case(rng: random.Random, padding: str) -> JaxCase:
    ndim = rng.choice((1, 2, 2, 3))
    size = tuple(rng.randint(1, 6 if ndim < 3 else 3) for _ in range(ndim))
    kernel = tuple(rng.randint(1, 5 if ndim < 3 else 3) for _ in range(ndim))
    stride = tuple(rng.randint(1, 3) for _ in range(ndim))
    dilation = tuple(rng.choice((1, 1, 2, 3)) for _ in range(ndim))
    crops: tuple = ()
    output_padding: tuple = ()
    if padding in ("explicit", "consistent"):
        if padding == "explicit":
            output_padding = tuple(
                rng.randrange(max(s, d)) if rng.random() < 0.5 else 0 for s, d in zip(stride, dilation)
            )
        pairs = []
        for i, k, s, d, op in zip(size, kernel, stride, dilation, output_padding or (0,) * ndim):
            room = full_length(i, k, s, d) + op - 1  # leave at least one sample
            pb = rng.randint(0, room)
            pairs.append((pb, rng.randint(0, room - pb)))
        crops = tuple(pairs)
    return JaxCase(
        size,
        kernel,
        stride,
        dilation,
        padding,
        transpose_kernel=rng.random() < 0.5,
        layout=rng.choice(LAYOUTS),
        crops=crops,
        output_padding=output_padding,
        batch=rng.randint(1, 2),
    )


def _cases() -> list[JaxCase]:
    cases = [
        JaxCase((5,), (3,), (2,), (1,), "SAME", False),
        JaxCase((6,), (4,), (2,), (2,), "SAME", True),  # ke = 7 > s: crop (7 - 2) // 2 = 2
        JaxCase((4,), (1,), (3,), (1,), "SAME", False, "NX-IO"),  # s > ke: zeros after
        JaxCase((5, 4), (2, 5), (3, 2), (1, 1), "SAME", True, "NC-OI"),
        JaxCase((3, 2, 3), (2, 3, 1), (2, 1, 3), (2, 1, 1), "SAME", False, "NX-IO"),
        JaxCase((5,), (2,), (3,), (1,), "VALID", False),  # s > ke: (i-1)*s + s
        JaxCase((4, 5), (3, 4), (2, 1), (2, 1), "VALID", True, "NX-IO"),
        JaxCase((2, 3, 2), (3, 2, 2), (1, 3, 2), (1, 1, 2), "VALID", False, "NC-OI"),
        JaxCase((5,), (3,), (2,), (1,), "explicit", False, crops=((1, 2),)),
        JaxCase((5,), (3,), (2,), (2,), "explicit", True, crops=((6, 0),)),  # crop > ke - 1: negative JAX pad
        JaxCase((4,), (2,), (3,), (1,), "explicit", False, crops=((0, 0),), output_padding=(2,)),  # zeros after
        JaxCase(
            (4, 5), (3, 2), (2, 3), (1, 2), "explicit", True, "NC-OI", crops=((0, 3), (2, 1)), output_padding=(1, 0)
        ),
        JaxCase((3, 2, 3), (2, 2, 3), (2, 3, 1), (1, 1, 2), "explicit", False, "NX-IO", crops=((1, 0), (2, 2), (0, 3))),
        JaxCase((5, 4), (3, 4), (2, 2), (1, 1), "consistent", False, crops=((1, 1), (0, 2))),
        JaxCase((4,), (3,), (3,), (2,), "consistent", True, "NC-OI", crops=((3, 5),)),
    ]
    rng = random.Random(20240614)
    for padding, count in (("SAME", 5), ("VALID", 4), ("explicit", 8), ("consistent", 4)):
        cases.extend(_random_case(rng, padding) for _ in range(count))
    return cases


CASES = _cases()


def _data(case: JaxCase) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channels-first input, JAX kernel (in the case's kernel layout), and tconv's torch weight."""
    seed = stable_seed(str(case))
    x = random_array((case.batch, case.in_channels, *case.size), seed)
    if case.transpose_kernel:
        hwio = random_array((*case.kernel, case.out_channels, case.in_channels), seed + 1)  # TF layout
        w = tconv.convert_weight(hwio, "tf", "torch", transposed=True).numpy()
    else:
        hwio = random_array((*case.kernel, case.in_channels, case.out_channels), seed + 1)  # flipped forward kernel
        w = tconv.convert_weight(hwio, "jax", "torch", transposed=True).numpy()
    n = case.ndim
    rhs = hwio if case.layout.endswith("IO") else np.ascontiguousarray(np.transpose(hwio, (n + 1, n, *range(n))))
    return x, rhs, w


@functools.lru_cache(maxsize=None)
def _jax_output(case: JaxCase) -> np.ndarray:
    x, rhs, _ = _data(case)
    lhs = x if case.layout.startswith("NC") else channels_last(x)
    kwargs = {"use_consistent_padding": True} if case.padding == "consistent" else {}
    y = lax.conv_transpose(
        lhs,
        rhs,
        case.stride,
        case.jax_padding(),
        rhs_dilation=case.dilation,
        dimension_numbers=case.dimension_numbers(),
        transpose_kernel=case.transpose_kernel,
        **kwargs,
    )
    y = np.asarray(y)
    return y if case.layout.startswith("NC") else channels_first(y)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_transpose(case: JaxCase, algorithm: str) -> None:
    if case.padding == "consistent" and not HAS_CONSISTENT_PADDING:
        pytest.skip(f"jax {jax.__version__}: lax.conv_transpose has no use_consistent_padding")
    expected = _jax_output(case)
    x, _, w = _data(case)
    actual = run_tconv(x, w, algorithm=algorithm, **case.tconv_kwargs())
    assert_matches(actual, expected, f"{case} algorithm={algorithm}", weight=w)


def test_torch_weight_is_the_oihw_kernel_of_transpose_kernel_true() -> None:
    """With ``transpose_kernel=True`` and OIHW dimension numbers JAX takes PyTorch's layout as is."""
    x = random_array((2, 3, 5, 4), 1)
    w = random_array((3, 2, 3, 2), 2)  # torch (Cin, Cout, kH, kW)
    expected = np.asarray(
        lax.conv_transpose(x, w, (2, 3), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"), transpose_kernel=True)
    )
    assert_matches(run_tconv(x, w, stride=(2, 3), padding="same"), expected, "OIHW transpose_kernel=True", weight=w)
