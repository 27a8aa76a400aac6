"""Random transposed-convolution problems and their comparison with the float64 reference.

Used by ``tconv check`` and by the test suite, so that both exercise the same space: 1-3 spatial
axes, odd and even sizes, every padding vocabulary, output_size, output_padding, groups, dilation
and bias. The fused resampling ops have theirs in :mod:`tconv.fused.testing`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from . import algorithms, functional
from .algorithms.reference import conv_transpose_reference, reference_dtype
from .geometry import Pads, full_length, legal_output_sizes, parse_padding

#: Largest error, relative to the reference's largest magnitude, that an algorithm may make.
TOLERANCE = {
    torch.float64: 1e-10,
    torch.complex128: 1e-10,
    torch.float32: 2e-5,
    torch.complex64: 2e-5,
    torch.float16: 6e-3,
    torch.bfloat16: 4e-2,
}


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
        draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64).to(device=device, dtype=dtype)  # noqa: E731
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


def supports(algorithm: str, case: Case, dtype: torch.dtype = torch.float32, **layout) -> bool:
    """Whether ``algorithm`` declares it can run ``case`` with this dtype and layout."""
    x, w, b = case.tensors(dtype, **layout)
    return not algorithms.get(algorithm).why_not(functional.plan_for(x, w, b, **case.kwargs))


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """``max |value - reference| / max |reference|`` (0 when both are zero)."""
    reference = reference.detach()
    scale = reference.abs().max().item() if reference.numel() else 0.0
    diff = (value.detach().to(reference.dtype) - reference).abs().max().item() if reference.numel() else 0.0
    return diff / scale if scale else diff


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

    return error_against_reference(run, reference, tensors, reference_dtype(dtype), seed=seed, gradients=gradients, label=f"{algorithm} on {case}")


def error_against_reference(
    run: Callable[..., torch.Tensor],
    reference: Callable[..., torch.Tensor],
    tensors: tuple[Optional[torch.Tensor], ...],
    exact: torch.dtype,
    *,
    seed: int = 0,
    gradients: bool = True,
    label: str = "",
) -> float:
    """Largest relative error of ``run(*tensors)`` against ``reference`` on copies of the tensors
    in the ``exact`` dtype: the output and, with ``gradients``, the gradients of the tensors (not
    ``None``) for a random output cotangent drawn from ``seed + 1``.

    Raises:
        AssertionError: the output shapes differ (``label`` names the call).
    """
    out = run(*tensors)
    wide = [None if t is None else t.detach().to(exact).requires_grad_(gradients) for t in tensors]
    ref = reference(*wide)
    if tuple(out.shape) != tuple(ref.shape):
        raise AssertionError(f"{label}: output shape {tuple(out.shape)}, reference {tuple(ref.shape)}")
    errors = [relative_error(out, ref)]
    if gradients:
        generator = torch.Generator().manual_seed(seed + 1)
        cotangent = torch.randn(ref.shape, generator=generator, dtype=torch.float64).to(exact)
        grads = torch.autograd.grad(out, [t for t in tensors if t is not None], cotangent.to(out.dtype))
        ref_grads = torch.autograd.grad(ref, [t for t in wide if t is not None], cotangent)
        errors += [relative_error(g, r) for g, r in zip(grads, ref_grads)]
    return max(errors)


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
