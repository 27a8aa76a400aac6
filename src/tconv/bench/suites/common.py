"""What the suites share: tconv's column for each op family (which is what a user writes, with
the algorithm ``--algorithm`` forces where it belongs to the family), PyTorch's transposed
convolutions by dimension, rows named by a label, and the plain-copy yardstick."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, Mapping, Sequence, Union

import torch

from ... import custom, fused, transposed
from ...custom.functional import custom_conv, explain_custom
from ...fused.functional import explain_fused
from ...fused.functional import fused as run_fused
from ...transposed import functional
from ..harness import Method, Settings


@dataclass(frozen=True)
class LabelledRow:
    """A row named by its label and its input's shape."""

    label: str
    input: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.label} {list(self.input)}"


def _tconv(settings: Settings, ndim: int, *args: object) -> tuple[Union[Method, str], str]:
    """tconv's transposed convolution (``args`` as ``F.conv_transposeNd`` takes them): see
    :func:`_choose`."""
    explain = partial(functional.explain, *args)
    return _choose(settings, transposed.ALGORITHMS, explain, partial(functional.conv_transpose, ndim, *args))


def _fused(
    settings: Settings, op: str, ndim: int, *tensors: object, **arguments: object
) -> tuple[Union[Method, str], str]:
    """tconv's fused ``op`` (``"upsample_conv"`` or ``"conv_pool"``): see :func:`_choose`."""
    explain = partial(explain_fused, op, *tensors, **arguments)
    return _choose(settings, fused.ALGORITHMS, explain, partial(run_fused, op, ndim, *tensors, **arguments))


def _custom(settings: Settings, ndim: int, *tensors: object, **arguments: object) -> tuple[Union[Method, str], str]:
    """tconv's custom convolution: see :func:`_choose`."""
    explain = partial(explain_custom, *tensors, **arguments)
    return _choose(settings, custom.ALGORITHMS, explain, partial(custom_conv, ndim, *tensors, **arguments))


def _choose(
    settings: Settings,
    family: Mapping[str, object],
    explain: Callable[..., transposed.Choice],
    run: Callable[..., object],
) -> tuple[Union[Method, str], str]:
    """tconv's callable for a call, which is what a user writes: ``run(algorithm=...)`` with
    ``--algorithm`` where it names an algorithm of the op's ``family``, else ``"auto"``; with the
    name of the algorithm that runs (``explain`` autotunes here, before timing, where autotuning
    is on), or why the requested algorithm cannot run it."""
    algorithm = settings.algorithm if settings.algorithm in family else "auto"
    try:
        with settings.autocast():
            chosen = explain(algorithm=algorithm).algorithm.name
    except transposed.NoAlgorithmError as error:
        return f"n/a: {error}", ""
    return (lambda: run(algorithm=algorithm)), chosen


def plain_copy(settings: Settings, reads: Sequence[torch.Tensor], writes: Sequence[torch.Tensor]) -> Method:
    """A plain copy moving the bytes an operation must at least move: the yardstick of "within 2×
    of a copy".

    Forward: read ``reads`` once and write ``writes`` once, ``R + W`` bytes. Forward+backward adds
    reading the output's gradient and the inputs again and writing the inputs' gradients:
    ``3R + 2W`` bytes. The copy is ``torch.empty_like(src).copy_(src)`` of half that many bytes
    (a copy reads and writes each byte) in the dtype of the first output; like the operations it
    is compared with, it allocates its result on every call.
    """
    read = sum(t.numel() * t.element_size() for t in reads)
    write = sum(t.numel() * t.element_size() for t in writes)
    moved = 3 * read + 2 * write if settings.backward else read + write
    dtype = writes[0].dtype
    elements = math.ceil(moved / 2 / torch.empty((), dtype=dtype).element_size())
    src = torch.ones(elements, dtype=dtype, device=settings.device)
    return lambda: torch.empty_like(src).copy_(src)
