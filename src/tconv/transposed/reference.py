"""The definition of a transposed convolution, in float64, from its public arguments alone.

:func:`conv_transpose_reference` is what the transposed algorithms are held to. It shares nothing
with the code under test but the public arguments: it imports nothing from tconv (no plan, no
window model, no padding parser) and reads each padding vocabulary by its own rule, as
``shared/semantics.md`` states them. Per spatial axis, with input length ``i``, kernel ``k``,
stride ``s``, dilation ``d`` and output padding ``op``:

* every input sample ``x[n, c, t]`` adds ``x[n, c, t] * w[c, o, m]`` to the full output at
  ``t * s + m * d``, for every tap ``m`` and every output channel ``o`` of its group; the full
  output is ``L = (i - 1) * s + (k - 1) * d + 1`` long;
* it is extended by ``op`` zeros, and by more wherever the window runs past it;
* the window ``[b, b + n)`` of that is returned, the bias added to every sample of it. With
  ``total = max(0, L + op - n)``, each padding gives:

  - ``p`` (PyTorch's int, both sides): ``n = L + op - 2p``, ``b = p``;
  - ``(pb, pe)`` per side (ONNX ``pads``, TF explicit): ``n = L + op - pb - pe``, ``b = pb``;
  - ``"valid"``: ``n = L + op``, ``b = 0``;
  - ``"same"`` / ``"same_upper"``: ``n = i * s``, ``b = total // 2`` (the odd sample cropped at the end);
  - ``"same_lower"``: ``n = i * s``, ``b = total - total // 2`` (the odd sample cropped at the start);

  and a given ``output_size`` replaces ``n`` in every rule.

Nothing is checked: this is for legal calls only. Gradients come from autograd.
"""

from __future__ import annotations

import itertools
from typing import Optional

import torch


def reference_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the reference computes in: float64, or complex128 for complex inputs."""
    return torch.complex128 if dtype.is_complex else torch.float64


def conv_transpose_reference(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    stride: object = 1,
    padding: object = 0,
    output_padding: object = 0,
    groups: int = 1,
    dilation: object = 1,
    output_size: object = None,
) -> torch.Tensor:
    """``tconv.conv_transposeNd(input, weight, bias, ...)`` by its definition, in float64 (complex128
    for complex operands), with the arguments as tconv takes them: ints or one int per axis; the
    padding as an int, one int or ``(begin, end)`` pair per axis, or a padding string (any case);
    ``output_size`` with or without N and C. The input may be unbatched ``(C, *spatial)``."""
    ndim = weight.dim() - 2
    unbatched = input.dim() == ndim + 1
    dtype = reference_dtype(input.dtype)
    x, w = (input.unsqueeze(0) if unbatched else input).to(dtype), weight.to(dtype)
    stride, output_padding, dilation = (_per_axis(v, ndim) for v in (stride, output_padding, dilation))
    batch, in_channels, *size = x.shape
    _, out_per_group, *kernel = w.shape
    in_per_group = in_channels // groups
    full = [(i - 1) * s + (k - 1) * d + 1 for i, k, s, d in zip(size, kernel, stride, dilation)]

    # the window of each axis: its begin and its length
    if output_size is not None:
        output_size = list(output_size)[-ndim:]
    if isinstance(padding, str):
        rule = padding.lower()
        if rule == "valid":
            lengths = [L + op for L, op in zip(full, output_padding)]
            begins = [0] * ndim
        else:
            lengths = [i * s for i, s in zip(size, stride)]
            totals = [max(0, L + op - n) for L, op, n in zip(full, output_padding, output_size or lengths)]
            begins = [total - total // 2 if rule == "same_lower" else total // 2 for total in totals]
    else:
        sides = [(p, p) if isinstance(p, int) else tuple(p) for p in _per_axis(padding, ndim)]
        lengths = [L + op - pb - pe for L, op, (pb, pe) in zip(full, output_padding, sides)]
        begins = [pb for pb, _ in sides]
    if output_size is not None:
        lengths = [int(n) for n in output_size]

    # the full output, zero-extended by output_padding and as far as the window reaches
    extended = [max(L + op, b + n) for L, op, b, n in zip(full, output_padding, begins, lengths)]
    out = torch.zeros(batch, groups * out_per_group, *extended, dtype=dtype, device=x.device)
    for tap in itertools.product(*(range(k) for k in kernel)):
        # where input samples 0, 1, ..., i - 1 land for this tap: m * d, m * d + s, ...
        landing = tuple(slice(m * d, m * d + (i - 1) * s + 1, s) for m, d, s, i in zip(tap, dilation, stride, size))
        for g in range(groups):
            ins = slice(g * in_per_group, (g + 1) * in_per_group)
            outs = slice(g * out_per_group, (g + 1) * out_per_group)
            out[(slice(None), outs, *landing)] += torch.einsum(
                "nc...,co->no...", x[:, ins], w[(ins, slice(None), *tap)]
            )

    out = out[(slice(None), slice(None), *(slice(b, b + n) for b, n in zip(begins, lengths)))]
    if bias is not None:
        out = out + bias.to(dtype).view(-1, *(1,) * ndim)
    return out.squeeze(0) if unbatched else out


def _per_axis(value: object, ndim: int) -> list:
    """An int for every axis, or already one entry per axis."""
    return [value] * ndim if isinstance(value, int) else list(value)
