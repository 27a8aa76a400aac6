"""One vocabulary for testing every family: cases, capability, comparison with a reference.

Each family's ``testing.py`` (:mod:`tconv.transposed.testing`, :mod:`tconv.fused.testing`,
:mod:`tconv.custom.testing`) draws random calls of its ops and compares an algorithm with its
float64 reference, in the same words:

* a ``Case``: one call's shapes and arguments; ``case.tensors(dtype, seed=..., requires_grad=...)``
  draws its tensors, ``str(case)`` names it;
* ``random_cases(seed, count)``: legal calls covering the family's argument space;
* ``unable(case, dtype, **layout)``: every algorithm's reasons for not running the case;
* ``compare_with_reference(case, algorithm, dtype, seed=...)``: the largest relative error of
  the output and the gradients against the reference.

Each family's :class:`FamilyTests` bundles them, so that ``tconv check`` and the tests walk all
three families alike. The helpers below are shared by all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

import torch

from .algorithm import Algorithm

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
class ConvCase:
    """One call of a forward-convolution op: ``tconv.<op><ndim>d(x, w, b, **kwargs)`` with random
    tensors of these shapes (weight ``(Cout, Cin // groups, *kernel)``)."""

    op: str
    ndim: int
    input_shape: tuple
    weight_shape: tuple
    bias: bool
    kwargs: dict = field(default_factory=dict, hash=False)

    def tensors(self, dtype=torch.float64, *, seed=0, requires_grad=False):
        """Random ``(input, weight, bias)`` (:func:`random_tensors`)."""
        return random_tensors(
            self.input_shape, self.weight_shape, self.bias, dtype, seed=seed, requires_grad=requires_grad
        )

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
        random_cases: ``random_cases(seed, count)``.
        unable: ``unable(case, dtype, **layout)``: every algorithm's reasons.
        compare_with_reference: ``compare_with_reference(case, algorithm, dtype, *, seed, **layout)``.
        layout: ``layout(index)``: the keyword arguments of the ``index``-th case's layout
            (``channels_last`` for some transposed cases).
        testable: ``testable(case)``: whether the reference can run the case at all (PyTorch's
            own composition refuses some fused calls that tconv's ops refuse too).
    """

    name: str
    title: str
    algorithms: Mapping[str, Algorithm]
    random_cases: Callable[[int, int], Sequence[object]]
    unable: Callable[..., dict[str, list[str]]]
    compare_with_reference: Callable[..., float]
    layout: Callable[[int], dict] = lambda index: {}
    testable: Callable[[object], bool] = lambda case: True

    def supports(self, algorithm: str, case: object, dtype: torch.dtype = torch.float32, **layout: object) -> bool:
        """Whether ``algorithm`` declares it can run ``case`` in ``dtype`` and this layout."""
        return not self.unable(case, dtype, **layout)[algorithm]


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """``max |value - reference| / max |reference|`` (0 when both are zero)."""
    reference = reference.detach()
    scale = reference.abs().max().item() if reference.numel() else 0.0
    diff = (value.detach().to(reference.dtype) - reference).abs().max().item() if reference.numel() else 0.0
    return diff / scale if scale else diff


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
