"""Random transposed-convolution problems and their comparison with the float64 reference.

Used by ``tconv check`` and by the test suite, so that both exercise the same space: 1-3 spatial
axes, odd and even sizes, every padding vocabulary, output_size, output_padding, groups, dilation
and bias. The other families have theirs in the same words (:mod:`tconv.core.testing`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Optional

import torch

from ..core.geometry import Pads, full_length, legal_output_sizes, parse_padding
from ..core.testing import FamilyTests, error_against_reference
from . import DISPATCHER, functional
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
        if channels_last and self.ndim in (2, 3):
            x = x.contiguous(memory_format=torch.channels_last if self.ndim == 2 else torch.channels_last_3d)
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
    output_padding = [rng.randrange(max(s, d)) for s, d in zip(stride, dilation)]
    full = [full_length(i, k, s, d) for i, k, s, d in zip(size, kernel, stride, dilation)]

    style = rng.choice(("int", "per_axis", "pairs", "valid", "same", "same_upper", "same_lower"))
    if style == "int":
        padding: object = rng.randint(0, (min(L + op for L, op in zip(full, output_padding)) - 1) // 2)
    elif style == "per_axis":
        padding = tuple(rng.randint(0, (L + op - 1) // 2) for L, op in zip(full, output_padding))
    elif style == "pairs":
        pairs = []
        for L, op in zip(full, output_padding):
            begin = rng.randint(0, L + op - 1)
            pairs.append((begin, rng.randint(0, L + op - 1 - begin)))
        padding = tuple(pairs)
    else:
        padding = style
    kwargs: dict = {"stride": tuple(stride), "padding": padding, "output_padding": tuple(output_padding)}

    if rng.random() < 0.35:
        rules = parse_padding(padding, ndim)
        output_size = []
        for i, k, s, d, op, rule in zip(size, kernel, stride, dilation, output_padding, rules):
            legal = legal_output_sizes(i, k, s, d, rule, op)
            output_size.append(rng.choice(legal) if len(legal) else None)
        if None not in output_size:
            kwargs["output_size"] = tuple(output_size)
            if all(isinstance(rule, Pads) for rule in rules):
                kwargs["output_padding"] = 0
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
    rng = random.Random(seed)
    return [random_case(rng, ndim, max_input=max_input) for _ in range(count)]


def unable(case: Case, dtype: torch.dtype = torch.float32, **layout) -> dict[str, list[str]]:
    """Each algorithm's reasons for not running ``case`` in ``dtype`` and this layout (empty: it can)."""
    x, w, b = case.tensors(dtype, **layout)
    return DISPATCHER.reasons(functional.plan_for(x, w, b, **case.kwargs))


def supports(algorithm: str, case: Case, dtype: torch.dtype = torch.float32, **layout) -> bool:
    """Whether ``algorithm`` declares it can run ``case`` with this dtype and layout."""
    return TESTS.supports(algorithm, case, dtype, **layout)


def compare_with_reference(
    case: Case,
    algorithm: str,
    dtype: torch.dtype = torch.float32,
    *,
    seed: int = 0,
    channels_last: bool = False,
    gradients: bool = True,
) -> float:
    """Largest relative error of ``algorithm`` against the float64 reference: output and, with
    ``gradients``, the gradients of input, weight and bias for a random output cotangent."""
    tensors = case.tensors(dtype, seed=seed, channels_last=channels_last, requires_grad=gradients)

    def run(x, w, b):
        return functional.conv_transpose(case.ndim, x, w, b, **case.kwargs, algorithm=algorithm)

    def reference(x, w, b):
        return conv_transpose_reference(functional.plan_for(x, w, b, **case.kwargs), x, w, b)

    return error_against_reference(
        run, reference, tensors, reference_dtype(dtype), seed=seed, gradients=gradients, label=f"{algorithm} on {case}"
    )


#: The family's testing vocabulary (:class:`tconv.core.testing.FamilyTests`); ``tconv check``
#: runs every third case channels-last.
TESTS = FamilyTests(
    name="conv_transpose",
    title="conv_transpose: forward and gradients against the float64 reference",
    algorithms=DISPATCHER.algorithms,
    random_cases=random_cases,
    unable=unable,
    compare_with_reference=compare_with_reference,
    layout=lambda index: {"channels_last": index % 3 == 0},
)
