"""The fused ops' definition, in float64, from their public arguments alone.

``upsample_convNd(x, w, b, ...)`` is ``nn.ConvNd(padding, padding_mode, ...)`` applied to
``nn.Upsample(scale_factor, mode, align_corners)(x)``; ``conv_poolNd(x, w, b, ...)`` is
``nn.AvgPoolNd(pool_size)`` applied to ``nn.ConvNd(stride, padding, padding_mode, ...)(x)``.
PyTorch defines every piece; this module writes the composition out with its public functions
(``F.interpolate``, ``F.pad``, ``F.convNd``, ``F.avg_poolNd``) and its own reading of the padding
argument, the one ``nn.ConvNd`` documents:

* an int pads every spatial axis by that many samples at both ends, a sequence each axis by its
  own entry;
* ``"valid"`` pads nothing;
* ``"same"`` pads ``dilation * (kernel - 1)`` samples in all per axis, half at the beginning and
  the odd one at the end, and is refused with a stride (as ``nn.ConvNd`` refuses it);
* the padded samples are zeros, or reflect, replicate or wrap the signal (``padding_mode``),
  padded explicitly with ``F.pad`` before an unpadded convolution.

It imports nothing from tconv: the plan, the window model and the padding rules of the code under
test are not used, so a mistake there shows as a difference from these functions, not agreement
with them. Everything is computed in float64 (tensors already in float64 are used as they are, so
autograd reaches them); unbatched input (``(C, *spatial)``) is taken as ``F.convNd`` takes it.

The dispatcher's forcible ``reference`` algorithm (:mod:`.algorithms.reference`) is another
thing: the ``naive`` algorithm run in float64 from the plan, for users who ask for it. The tests
hold every algorithm, that one included, to the functions here.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
#: ``padding_mode`` as ``nn.ConvNd`` names it -> the mode ``F.pad`` takes.
PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def per_axis(value: Union[int, Sequence[int]], ndim: int) -> tuple[int, ...]:
    """``value`` as one entry per spatial axis: a sequence as it is, a number repeated."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim


def pads(padding, kernel_size: Sequence[int], dilation, stride) -> list[tuple[int, int]]:
    """``(begin, end)`` samples of padding per spatial axis, as ``nn.ConvNd`` reads ``padding``."""
    ndim = len(kernel_size)
    if padding == "valid":
        return [(0, 0)] * ndim
    if padding == "same":
        if any(s != 1 for s in per_axis(stride, ndim)):
            raise ValueError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(per_axis(dilation, ndim), kernel_size)]
        return [(total // 2, total - total // 2) for total in totals]
    if isinstance(padding, str):
        raise ValueError(f"padding: {padding!r} is neither 'same' nor 'valid'")
    return [(p, p) for p in per_axis(padding, ndim)]


def conv(x, w, b, *, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros") -> torch.Tensor:
    """``nn.ConvNd``'s forward on a batched ``x``: pad in ``padding_mode``, convolve unpadded."""
    ndim = w.dim() - 2
    widths = pads(padding, w.shape[2:], dilation, stride)
    flat = [width for begin_end in reversed(widths) for width in begin_end]  # F.pad: last axis first
    padded = F.pad(x, flat, mode=PAD_MODES[padding_mode]) if any(flat) else x
    return CONV[ndim](padded, w, b, stride, 0, dilation, groups)


def _wide(*tensors: Optional[torch.Tensor]) -> list[Optional[torch.Tensor]]:
    return [None if t is None else t.to(torch.float64) for t in tensors]


def _batched(function):
    """``function`` on an unbatched input too: ``(C, *spatial)`` as a batch of one."""

    def call(x, w, b=None, **arguments):
        if x.dim() == w.dim() - 1:
            return call(x.unsqueeze(0), w, b, **arguments).squeeze(0)
        return function(x, w, b, **arguments)

    call.__name__, call.__doc__ = function.__name__, function.__doc__
    return call


@_batched
def upsample_conv(
    x: torch.Tensor,
    w: torch.Tensor,
    b: Optional[torch.Tensor] = None,
    *,
    scale_factor=2,
    mode: str = "nearest",
    padding=0,
    dilation=1,
    groups: int = 1,
    padding_mode: str = "zeros",
    align_corners: Optional[bool] = None,
) -> torch.Tensor:
    """``conv(interpolate(x))`` in float64: ``F.interpolate``, then ``nn.ConvNd``'s padding and
    convolution with stride 1."""
    x, w, b = _wide(x, w, b)
    upsampled = F.interpolate(x, scale_factor=scale_factor, mode=mode, align_corners=align_corners)
    return conv(upsampled, w, b, padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode)


@_batched
def conv_pool(
    x: torch.Tensor,
    w: torch.Tensor,
    b: Optional[torch.Tensor] = None,
    *,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
    pool_size=2,
    padding_mode: str = "zeros",
) -> torch.Tensor:
    """``avg_pool(conv(x))`` in float64: ``nn.ConvNd``'s padding and convolution, then average
    pooling with window and stride ``pool_size``."""
    x, w, b = _wide(x, w, b)
    y = conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups, padding_mode=padding_mode)
    return AVG_POOL[w.dim() - 2](y, pool_size)


#: The definitions by op name.
OPS = {"upsample_conv": upsample_conv, "conv_pool": conv_pool}


def fused(op: str, x: torch.Tensor, w: torch.Tensor, b: Optional[torch.Tensor] = None, **arguments) -> torch.Tensor:
    """The definition of ``tconv.<op>Nd(x, w, b, **arguments)`` in float64 (``N`` from ``w``)."""
    return OPS[op](x, w, b, **arguments)
