"""Random transposed-convolution problems and their comparison with the float64 reference.

Used by ``tconv check`` and by the test suite, so that both exercise the same space: 1-3 spatial
axes, odd and even sizes, every padding vocabulary (its strings in any case), output_size (with
or without N and C), output_padding, groups, dilation and bias. An algorithm runs through the
public op; the reference (:func:`tconv.transposed.reference.conv_transpose_reference`) is called
with the same public arguments, so a wrong window anywhere in the plan shows as a difference.
The other families have theirs in the same words (:mod:`tconv.core.testing`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Optional

import torch

from ..core.plan import CHANNELS_LAST
from ..core.testing import Comparison, FamilyTests, conv_terms, describe, error_against_reference
from . import DISPATCHER, functional
from .plan import plan_conv_transpose
from .reference import conv_transpose_reference, reference_dtype


@dataclass(frozen=True)
class Case:
    """One transposed-convolution call: shapes and keyword arguments."""

    input_shape: tuple[int, ...]
    weight_shape: tuple[int, ...]
    kwargs: dict = field(default_factory=dict, hash=False)
    bias: bool = False

    @property
    def ndim(self) -> int:
        return len(self.weight_shape) - 2

    @property
    def terms(self) -> int:
        """The longest sum of the call and its gradients (:func:`tconv.core.testing.conv_terms`);
        the output size is the plan's (a tolerance only, not a result)."""
        groups = self.kwargs.get("groups", 1)
        plan = plan_conv_transpose(self.input_shape, self.weight_shape, **self.kwargs)
        return conv_terms(
            plan.batch,
            plan.in_channels,
            plan.out_channels,
            groups,
            plan.kernel_size,
            plan.input_size,
            plan.output_size,
        )

    def tensors(
        self,
        dtype: torch.dtype = torch.float32,
        *,
        seed: int = 0,
        device: str = "cpu",
        channels_last: bool = False,
        requires_grad: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """Random ``(input, weight, bias)`` of this case (standard normal, then cast to ``dtype``)."""
        generator = torch.Generator().manual_seed(seed)

        def draw(*shape):
            return torch.randn(*shape, generator=generator, dtype=torch.float64).to(device=device, dtype=dtype)

        x, w = draw(*self.input_shape), draw(*self.weight_shape)
        b = draw(self.weight_shape[1] * self.kwargs.get("groups", 1)) if self.bias else None
        if channels_last and self.ndim in CHANNELS_LAST:
            x = x.contiguous(memory_format=CHANNELS_LAST[self.ndim])
        tensors = (x, w, b)
        for t in tensors:
            if t is not None:
                t.requires_grad_(requires_grad)
        return tensors

    def __str__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"x{list(self.input_shape)} w{list(self.weight_shape)}{' +bias' if self.bias else ''} {options}"


def random_case(rng: random.Random, ndim: Optional[int] = None, *, max_input: int = 7) -> Case:
    """A random legal call (small enough for the float64 reference)."""
    ndim = ndim or rng.choice((1, 1, 2, 2, 2, 3))
    if ndim == 3:
        max_input = min(max_input, 4)
    groups = rng.choice((1, 1, 1, 2, 3))
    batch = rng.randint(1, 2)
    cin, cout = groups * rng.choice((1, 1, 2, 3)), groups * rng.randint(1, 3)
    size = [rng.randint(1, max_input) for _ in range(ndim)]
    kernel = [rng.randint(1, 4 if ndim < 3 else 3) for _ in range(ndim)]
    dilation = [rng.choice((1, 1, 2)) for _ in range(ndim)]
    if rng.random() < 0.25:  # kernel blocks that do not overlap (k <= stride), as in k = s upsamplers
        stride = [(k - 1) * d + 1 + rng.randint(0, 1) for k, d in zip(kernel, dilation)]
    else:
        stride = [rng.randint(1, 3) for _ in range(ndim)]
    reach = [max(s, d) for s, d in zip(stride, dilation)]  # output_padding stays below it
    output_padding = [rng.randrange(r) for r in reach]
    full = [(i - 1) * s + (k - 1) * d + 1 for i, k, s, d in zip(size, kernel, stride, dilation)]

    style = rng.choice(("int", "per_axis", "pairs", "valid", "same", "same_upper", "same_lower"))
    if style == "int":
        padding: object = rng.randint(0, (min(L + op for L, op in zip(full, output_padding)) - 1) // 2)
        sides = [(padding, padding)] * ndim
    elif style == "per_axis":
        padding = tuple(rng.randint(0, (L + op - 1) // 2) for L, op in zip(full, output_padding))
        sides = [(p, p) for p in padding]
    elif style == "pairs":
        sides = []
        for L, op in zip(full, output_padding):
            begin = rng.randint(0, L + op - 1)
            sides.append((begin, rng.randint(0, L + op - 1 - begin)))
        padding = tuple(sides)
    else:
        padding = style.upper() if rng.random() < 0.2 else style
        sides = [(0, 0)] * ndim if style == "valid" else None
    kwargs: dict = {"stride": tuple(stride), "padding": padding, "output_padding": tuple(output_padding)}

    if rng.random() < 0.35:
        if sides is None:  # SAME: any length the extended full output crops to, or up to i * s
            output_size = [
                rng.randint(1, max(L + op, i * s)) for L, op, i, s in zip(full, output_padding, size, stride)
            ]
        else:  # an explicit crop: the lengths an output_padding reaches (and at least 1), given instead of it
            output_size = [L - b - e + rng.randrange(r) for L, (b, e), r in zip(full, sides, reach)]
            kwargs["output_padding"] = 0
        if min(output_size) >= 1:
            kwargs["output_size"] = tuple(output_size) if rng.random() < 0.8 else (batch, cout, *output_size)
        else:
            kwargs["output_padding"] = tuple(output_padding)
    if groups > 1:
        kwargs["groups"] = groups
    if any(d > 1 for d in dilation):
        kwargs["dilation"] = tuple(dilation)
    return Case(
        input_shape=(batch, cin, *size),
        weight_shape=(cin, cout // groups, *kernel),
        kwargs=kwargs,
        bias=rng.random() < 0.5,
    )


def random_cases(seed: int, count: int, ndim: Optional[int] = None, *, max_input: int = 7) -> list[Case]:
    """``count`` random calls drawn from ``seed`` (:func:`random_case`)."""
    rng = random.Random(seed)
    return [random_case(rng, ndim, max_input=max_input) for _ in range(count)]


def variant(index: int) -> dict:
    """The variant of the ``index``-th drawn case: every third channels-last, every fourth without
    gradients (so that the algorithms take their inference paths)."""
    return {"channels_last": index % 3 == 0, "gradients": index % 4 != 3}


def unable(
    case: Case, dtype: torch.dtype = torch.float32, *, channels_last: bool = False, gradients: bool = True
) -> dict[str, list[str]]:
    """Each algorithm's reasons for not running ``case`` in ``dtype`` and this variant (empty: it can)."""
    x, w, b = case.tensors(dtype, channels_last=channels_last, requires_grad=gradients)
    return DISPATCHER.reasons(functional.plan_for(x, w, b, **case.kwargs))


def supports(algorithm: str, case: Case, dtype: torch.dtype = torch.float32, **variant) -> bool:
    """Whether ``algorithm`` declares it can run ``case`` in ``dtype`` and this variant."""
    return TESTS.supports(algorithm, case, dtype, **variant)


def compare_with_reference(
    case: Case,
    algorithm: str,
    dtype: torch.dtype = torch.float32,
    *,
    seed: int = 0,
    channels_last: bool = False,
    gradients: bool = True,
) -> Comparison:
    """``algorithm`` (through the public op) against the float64 reference called with the same
    public arguments: the output and, with ``gradients``, the gradients of input, weight and bias
    for a random output cotangent; without, the tensors do not require gradients (the algorithms'
    inference paths)."""
    tensors = case.tensors(dtype, seed=seed, channels_last=channels_last, requires_grad=gradients)

    def run(x, w, b):
        return functional.conv_transpose(case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def reference(x, w, b):
        return conv_transpose_reference(x, w, b, **case.kwargs)

    return error_against_reference(
        run,
        reference,
        tensors,
        reference_dtype(dtype),
        seed=seed,
        gradients=gradients,
        terms=case.terms,
        linear=True,
        label=describe(algorithm, dtype, case, channels_last=channels_last, gradients=gradients),
    )


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`).
TESTS = FamilyTests(
    name="conv_transpose",
    title="conv_transpose: forward and gradients against the float64 reference",
    algorithms=DISPATCHER.algorithms,
    random_case=random_case,
    unable=unable,
    compare_with_reference=compare_with_reference,
    variant=variant,
)
