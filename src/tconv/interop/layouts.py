"""Weight layouts of every framework, and conversion between them.

PyTorch stores a transposed-convolution weight as ``(Cin, Cout // groups, *k)`` and a forward one
as ``(Cout, Cin // groups, *k)``. Call the two channel axes of the PyTorch layout ``A`` and ``B``
(whatever they mean): every other layout is an order of ``A``, ``B`` and the kernel axes ``k``,
possibly spatially flipped.

============  ===================  ================================  ===================
layout        transposed           forward                           flipped
============  ===================  ================================  ===================
torch, onnx   ``A, B, k``          ``A, B, k``                       no
tf, keras     ``k, B, A``          ``k, B, A`` (HWIO)                no
jax           ``k, A, B``          ``k, B, A`` (HWIO)                transposed only
cudnn_kcrs    ``A, B, k``          ``A, B, k``                       no
cudnn_krsc    ``A, k, B``          ``A, k, B``                       no
============  ===================  ================================  ===================

``jax`` for a transposed weight is what ``lax.conv_transpose(..., transpose_kernel=False)``
takes: the kernel of the equivalent forward convolution over the stride-dilated input.
"""

from __future__ import annotations

from typing import Union

import numpy as np
import torch

# name -> (transposed order, forward order, flipped when transposed); orders list the torch axes
# "A", "B" and "k" (all kernel axes) as the layout stores them.
_LAYOUTS: dict[str, tuple[str, str, bool]] = {
    "torch": ("ABk", "ABk", False),
    "onnx": ("ABk", "ABk", False),
    "tf": ("kBA", "kBA", False),
    "keras": ("kBA", "kBA", False),
    "jax": ("kAB", "kBA", True),
    "cudnn_kcrs": ("ABk", "ABk", False),
    "cudnn_krsc": ("AkB", "AkB", False),
}
LAYOUTS = tuple(_LAYOUTS)


def _torch_axes(order: str, ndim: int) -> list[int]:
    """For each axis of a layout, the torch axis it holds (``A`` = 0, ``B`` = 1, kernel = 2...)."""
    axes: list[int] = []
    for symbol in order:
        axes.extend({"A": [0], "B": [1], "k": list(range(2, ndim + 2))}[symbol])
    return axes


def _layout(name: object, argument: str, transposed: bool) -> tuple[str, bool]:
    if name not in _LAYOUTS:
        raise ValueError(f"{argument}: unknown layout {name!r}; legal layouts are {', '.join(map(repr, LAYOUTS))}")
    transposed_order, forward_order, flipped = _LAYOUTS[name]
    return (transposed_order, flipped) if transposed else (forward_order, False)


def convert_weight(weight: Union[torch.Tensor, np.ndarray], src: str, dst: str, *, transposed: bool) -> torch.Tensor:
    """Convert a convolution weight from one framework's layout to another's.

    Args:
        weight: the weight in layout ``src``, with 2 channel axes and 1 to 3 (or more) kernel
            axes; a numpy array is accepted.
        src, dst: layouts from :data:`LAYOUTS`: ``"torch"``, ``"onnx"``, ``"tf"``, ``"keras"``,
            ``"jax"``, ``"cudnn_kcrs"``, ``"cudnn_krsc"``.
        transposed: True for a transposed convolution's weight (torch ``(Cin, Cout // g, *k)``),
            False for a forward convolution's (torch ``(Cout, Cin // g, *k)``).

    Returns:
        A contiguous tensor in layout ``dst`` (a new tensor; gradients flow through it).
    """
    if not isinstance(transposed, bool):
        raise TypeError(f"transposed: expected True or False; got {transposed!r}")
    if isinstance(weight, np.ndarray):
        weight = torch.from_numpy(np.ascontiguousarray(weight))
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight: expected a torch.Tensor or numpy array; got {type(weight).__name__}")
    if weight.dim() < 3:
        raise ValueError(f"weight: expected 2 channel axes and at least 1 kernel axis; got shape {tuple(weight.shape)}")
    ndim = weight.dim() - 2
    src_order, src_flipped = _layout(src, "src", transposed)
    dst_order, dst_flipped = _layout(dst, "dst", transposed)
    kernel_axes = list(range(2, ndim + 2))

    src_axes = _torch_axes(src_order, ndim)
    canonical = weight.permute([src_axes.index(axis) for axis in range(ndim + 2)])
    if src_flipped != dst_flipped:
        canonical = canonical.flip(kernel_axes)
    return canonical.permute(_torch_axes(dst_order, ndim)).contiguous()


__all__ = ["LAYOUTS", "convert_weight"]
