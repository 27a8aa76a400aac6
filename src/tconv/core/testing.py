"""One vocabulary for testing every family: cases, capability, comparison with a reference.

Each family's ``testing.py`` (:mod:`tconv.transposed.testing`, :mod:`tconv.fused.testing`,
:mod:`tconv.custom.testing`) draws random calls of its ops and compares an algorithm with its
float64 reference, in the same words:

* a ``Case``: one call's shapes and arguments; ``case.tensors(dtype, seed=..., requires_grad=...)``
  draws its tensors, ``str(case)`` names it;
* ``random_case(rng)``: one legal call from the family's argument space;
* ``unable(case, dtype, **variant)``: every algorithm's reasons for not running the case;
* ``compare_with_reference(case, algorithm, dtype, seed=..., **variant)``: a :class:`Comparison`,
  the largest relative error of the output and the gradients against the reference and the
  :func:`tolerance` it is held to, from the dtype's precision and the length of the op's sums.

A family's reference (its ``reference.py``) is written from the op's definition and shares
nothing with the code under test but the public arguments: not the plan, not the window model,
not the padding rules. A bug in the geometry therefore shows as a difference, not as agreement.

Each family's :class:`FamilyTests` bundles them, so that ``tconv check`` and the tests walk all
three families alike; :meth:`FamilyTests.draw` draws the cases an algorithm runs, so that every
algorithm is tested on as many problems as any other. The helpers below are shared by all three.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import torch

from .algorithm import Algorithm
from .plan import CHANNELS_LAST

#: The dtypes the families' tests draw problems in; an algorithm is tested in each it declares.
DTYPES = (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64)

#: The dtype CPU and GPU kernels accumulate a sum of products in: float32 for the half types.
ACCUMULATES_IN = {torch.float16: torch.float32, torch.bfloat16: torch.float32}

#: Multiples of a dtype's machine epsilon in :func:`tolerance`: ``ROUNDING`` for rounding the
#: result (and any intermediate) to the dtype, ``SUMMING`` per square root of a sum's terms for
#: the order in which the sum is taken (errors of random sign grow with its square root).
ROUNDING, SUMMING = 4.0, 4.0


def epsilon(dtype: torch.dtype) -> float:
    """The machine epsilon of ``dtype`` (of its real part for a complex dtype)."""
    return torch.finfo(dtype).eps


def tolerance(dtype: torch.dtype, terms: int) -> float:
    """The largest error, relative to the reference's largest magnitude, allowed to an op computed
    in ``dtype`` whose longest sum (forward or in a gradient) has ``terms`` terms.

    ``ROUNDING * eps(dtype) + SUMMING * eps(accumulator) * sqrt(terms)``: the result is rounded to
    ``dtype`` once or a few times, and a sum's rounding errors, taken in another order than the
    reference's, grow with the square root of its length in the dtype it accumulates in.
    """
    accumulator = ACCUMULATES_IN.get(dtype, dtype)
    return ROUNDING * epsilon(dtype) + SUMMING * epsilon(accumulator) * math.sqrt(max(terms, 1))


def conv_terms(
    batch: int,
    in_channels: int,
    out_channels: int,
    groups: int,
    kernel_size: Sequence[int],
    input_size: Sequence[int],
    output_size: Sequence[int],
    factor: int = 1,
) -> int:
    """The longest sum in a convolution-like op and its gradients: an output's (``in_channels /
    groups`` channels by the taps), an input gradient's (``out_channels / groups`` by the taps),
    the weight's and the bias's (every sample and position); ``factor`` multiplies them for an
    op that folds more into each product (an interpolation's taps, a pooling window)."""
    taps = math.prod(kernel_size)
    positions = batch * max(math.prod(input_size), math.prod(output_size))
    return factor * max(in_channels // groups * taps, out_channels // groups * taps, positions)


@dataclass(frozen=True)
class Comparison:
    """An algorithm's largest relative error against its reference (output and gradients), and
    the :func:`tolerance` it is held to; ``label`` names the call."""

    error: float
    tolerance: float
    label: str = ""

    @property
    def passed(self) -> bool:
        return self.error <= self.tolerance

    def __str__(self) -> str:
        verdict = "within" if self.passed else "OVER"
        return f"{self.label}: error {self.error:.2e} {verdict} tolerance {self.tolerance:.2e}"


@dataclass(frozen=True)
class ConvCase:
    """One call of a forward-convolution op: ``tconv.<op><ndim>d(x, w, b, **kwargs)`` with random
    tensors of these shapes (weight ``(Cout, Cin // groups, *kernel)``)."""

    op: str
    ndim: int
    input_shape: tuple
    weight_shape: tuple
    bias: bool
    kwargs: dict = field(default_factory=dict, hash=False)

    def tensors(self, dtype=torch.float64, *, seed=0, requires_grad=False, channels_last=False):
        """Random ``(input, weight, bias)`` (:func:`random_tensors`); with ``channels_last`` a 2-d or
        3-d input is channels-last."""
        x, w, b = random_tensors(self.input_shape, self.weight_shape, self.bias, dtype, seed=seed)
        if channels_last and self.ndim in CHANNELS_LAST:
            x = x.contiguous(memory_format=CHANNELS_LAST[self.ndim])
        for t in (x, w, b):
            if t is not None:
                t.requires_grad_(requires_grad)
        return x, w, b

    def __str__(self):
        named = lambda v: v.__name__ if callable(v) else repr(v)  # noqa: E731
        options = ", ".join(f"{k}={named(v)}" for k, v in self.kwargs.items())
        return (
            f"tconv.{self.op}{self.ndim}d(x{list(self.input_shape)}, w{list(self.weight_shape)}, "
            f"{'bias' if self.bias else 'None'}, {options})"
        )


@dataclass(frozen=True)
class FamilyTests:
    """A family's testing vocabulary (see the module docstring).

    Attributes:
        name: the family's ops as ``tconv check`` names them (``"conv_transpose"``, ...).
        title: the title of the family's ``tconv check`` table.
        algorithms: the family's algorithms by name.
        random_case: ``random_case(rng)``: one legal random call from a ``random.Random``.
        unable: ``unable(case, dtype, **variant)``: every algorithm's reasons.
        compare_with_reference: ``compare_with_reference(case, algorithm, dtype, *, seed,
            **variant)``: a :class:`Comparison`.
        variant: ``variant(index)``: the keyword arguments of the ``index``-th drawn case for
            ``unable`` and ``compare_with_reference`` (``channels_last``, ``gradients``).
        testable: ``testable(case)``: whether the reference can run the case at all (PyTorch's
            own composition refuses some fused calls that tconv's ops refuse too).
        dtypes: the dtypes the family's algorithms are tested in (each algorithm in those it
            declares it runs).
    """

    name: str
    title: str
    algorithms: Mapping[str, Algorithm]
    random_case: Callable[[random.Random], object]
    unable: Callable[..., dict[str, list[str]]]
    compare_with_reference: Callable[..., Comparison]
    variant: Callable[[int], dict] = lambda index: {}
    testable: Callable[[object], bool] = lambda case: True
    dtypes: tuple[torch.dtype, ...] = DTYPES

    def random_cases(self, seed: int, count: int) -> list:
        """``count`` random calls drawn from ``seed``."""
        rng = random.Random(seed)
        return [self.random_case(rng) for _ in range(count)]

    def supports(self, algorithm: str, case: object, dtype: torch.dtype = torch.float32, **variant: object) -> bool:
        """Whether ``algorithm`` declares it can run ``case`` in ``dtype`` and this variant."""
        return self.testable(case) and not self.unable(case, dtype, **variant)[algorithm]

    def draw(
        self, algorithm: str, dtype: torch.dtype, count: int, seed: int = 0, *, attempts: int = 400
    ) -> list[tuple[object, dict]]:
        """``count`` random ``(case, variant)`` pairs that ``algorithm`` declares it runs in
        ``dtype``: the family's calls drawn one after another from ``seed`` (the variant of the
        ``i``-th draw is ``variant(i)``), those the algorithm declines passed over, so that the
        cases follow the family's distribution restricted to what the algorithm can run.

        Raises:
            LookupError: fewer than ``count`` found in ``attempts * count`` draws (the algorithm
                declares too little of the family's space for this generator, or not ``dtype``).
        """
        rng = random.Random(f"{self.name}/{algorithm}/{dtype}/{seed}")
        found: list[tuple[object, dict]] = []
        for index in range(attempts * count):
            if len(found) == count:
                break
            case, variant = self.random_case(rng), self.variant(index)
            if self.supports(algorithm, case, dtype, **variant):
                found.append((case, variant))
        if len(found) < count:
            raise LookupError(
                f"{self.name} {algorithm} in {dtype}: {len(found)} of {count} cases in {attempts * count} draws"
            )
        return found

    def declares(self, algorithm: str, dtype: torch.dtype, *, attempts: int = 2000, seed: int = 0) -> bool:
        """Whether ``algorithm`` runs any of the first ``attempts`` random calls in ``dtype``."""
        try:
            self.draw(algorithm, dtype, 1, seed, attempts=attempts)
        except LookupError:
            return False
        return True


def relative_error(value: torch.Tensor, reference: torch.Tensor, scale: Optional[torch.Tensor] = None) -> float:
    """``max |value - reference| / max |scale|``, ``scale`` being the reference itself unless given
    (0 when both are zero)."""
    reference = reference.detach()
    scale = reference if scale is None else scale.detach()
    largest = scale.abs().max().item() if scale.numel() else 0.0
    diff = (value.detach().to(reference.dtype) - reference).abs().max().item() if reference.numel() else 0.0
    return diff / largest if largest else diff


def describe(algorithm: str, dtype: torch.dtype, case, *, channels_last: bool, gradients: bool) -> str:
    """A comparison's label: the algorithm, the dtype, the variant and the case (channels-last only
    where the case has a channels-last layout: 2 and 3 spatial axes)."""
    variant = (", channels-last" if channels_last and case.ndim > 1 else "") + ("" if gradients else ", no gradients")
    return f"{algorithm} in {str(dtype).removeprefix('torch.')}{variant} on {case}"


def error_against_reference(
    run: Callable[..., torch.Tensor],
    reference: Callable[..., torch.Tensor],
    tensors: tuple[Optional[torch.Tensor], ...],
    exact: torch.dtype,
    *,
    seed: int = 0,
    gradients: bool = True,
    terms: int = 1,
    linear: bool = False,
    label: str = "",
) -> Comparison:
    """The largest relative error of ``run(*tensors)`` against ``reference`` on copies of the
    tensors in the ``exact`` dtype: the output and, with ``gradients``, the gradients of the
    tensors (not ``None``) for a random output cotangent drawn from ``seed + 1`` and rounded to the
    tensors' dtype (both get the same values); held to the :func:`tolerance` of the tensors' dtype
    and the op's longest sum of ``terms`` terms.

    An error is relative to the largest magnitude of the reference's result; for a ``linear`` op
    (a sum of products of the tensors, such as a convolution) to the largest sum of the terms'
    magnitudes instead: the reference run on the tensors' (and the cotangent's) absolute values.
    That is the scale a sum's rounding errors are proportional to, so that a sum that nearly
    cancels is not held to a tighter bound than its terms allow.

    Raises:
        AssertionError: the output shapes differ (``label`` names the call).
    """
    out = run(*tensors)
    wide = [None if t is None else t.detach().to(exact).requires_grad_(gradients) for t in tensors]
    ref = reference(*wide)
    if tuple(out.shape) != tuple(ref.shape):
        raise AssertionError(f"{label}: output shape {tuple(out.shape)}, reference {tuple(ref.shape)}")
    if linear:
        magnitudes = [None if t is None else t.detach().abs().requires_grad_(gradients) for t in wide]
        scale = reference(*magnitudes)
    errors = [relative_error(out, ref, scale if linear else None)]
    if gradients:
        generator = torch.Generator().manual_seed(seed + 1)
        cotangent = torch.randn(ref.shape, generator=generator, dtype=torch.float64).to(out.dtype)
        grads = torch.autograd.grad(out, [t for t in tensors if t is not None], cotangent)
        ref_grads = torch.autograd.grad(ref, [t for t in wide if t is not None], cotangent.to(exact))
        if linear:
            scales = torch.autograd.grad(scale, [t for t in magnitudes if t is not None], cotangent.to(exact).abs())
        else:
            scales = [None] * len(ref_grads)
        errors += [relative_error(g, r, m) for g, r, m in zip(grads, ref_grads, scales)]
    return Comparison(max(errors), tolerance(tensors[0].dtype, terms), label)


def random_tensors(input_shape, weight_shape, bias: bool, dtype=torch.float64, *, seed=0, requires_grad=False):
    """Random ``(input, weight, bias)`` of a convolution (standard normal in float64, then cast to
    ``dtype``); ``bias`` has ``weight_shape[0]`` entries, or is None."""
    g = torch.Generator().manual_seed(seed)
    draw = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)  # noqa: E731
    tensors = (draw(*input_shape), draw(*weight_shape), draw(weight_shape[0]) if bias else None)
    for t in tensors:
        if t is not None:
            t.requires_grad_(requires_grad)
    return tensors
