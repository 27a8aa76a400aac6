"""Interleaving planes on the innermost axis through integer words (tensor work shared by the
compiled algorithms).

Channels-first outputs of strided transposed convolutions interleave ``s`` samples on the innermost
axis, and PyTorch's kernels for an innermost stride of 2 run far below memory speed
(BENCHMARKS.md). ``s`` planes reinterpreted as integers, shifted and or-ed into one word per
``s`` samples (two float32 in an int64; two or four 16-bit floats in an int32 or int64) are stored
contiguously instead, which inductor compiles into vectorised loops. Bit for bit: no rounding.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

#: Each floating dtype's integer of the same size (its bits, reinterpreted).
SAME_SIZE = {
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.float32: torch.int32,
    torch.float64: torch.int64,
}
#: The integer word holding a block row's samples, by its size in bytes.
WORDS = {4: torch.int32, 8: torch.int64}


def word(dtype: torch.dtype, samples: int) -> Optional[torch.dtype]:
    """The integer dtype that holds ``samples`` of ``dtype`` bit for bit (``dtype`` itself for
    one sample); None where no word does."""
    if samples == 1:
        return dtype
    return WORDS.get(samples * dtype.itemsize)


def bits(tensor: torch.Tensor) -> torch.Tensor:
    """A floating tensor's bits as the integer of its size (a view); an integer tensor itself."""
    return tensor.view(SAME_SIZE[tensor.dtype]) if tensor.is_floating_point() else tensor


def words(planes: Sequence[torch.Tensor]) -> torch.Tensor:
    """Planes of one shape (floating, or their :func:`bits`) as one integer word per position
    holding ``planes[b]``'s bits as its ``b``-th sample (the plane's bits when there is one);
    viewed as the planes' dtype, a contiguous result's last axis interleaves them."""
    parts = [bits(plane) for plane in planes]
    if len(parts) == 1:
        return parts[0]
    width = 8 * parts[0].dtype.itemsize
    wide = WORDS[len(parts) * parts[0].dtype.itemsize]
    packed = parts[0].to(wide) & ((1 << width) - 1)
    for b, part in enumerate(parts[1:], start=1):  # the last plane's sign bits shift out
        part = part.to(wide)
        packed = packed | ((part if b == len(parts) - 1 else part & ((1 << width) - 1)) << (b * width))
    return packed


def interleaved(
    plane: Callable[[tuple[int, ...]], torch.Tensor],
    strides: Sequence[int],
    join: Callable[[list[torch.Tensor]], torch.Tensor],
) -> torch.Tensor:
    """The planes ``plane(residues)`` ``(N, g, C, t1, …, td)``, one per residue of ``strides``,
    arranged ``(N, g, C, t1, s1, …, td)`` + what ``join`` (:func:`words`, or a stack on a new last
    axis) makes of the innermost axis's planes: read in order, the output's samples."""

    def arrange(residues: tuple[int, ...]) -> torch.Tensor:
        axis = len(residues)
        if axis == len(strides) - 1:
            return join([plane((*residues, q)) for q in range(strides[axis])])
        return torch.stack([arrange((*residues, q)) for q in range(strides[axis])], dim=4 + axis)

    return arrange(())


def unwords(packed: torch.Tensor, count: int, sample: torch.dtype) -> torch.Tensor:
    """The bits of the ``count`` samples of integer type ``sample`` in each word, on a new last axis."""
    if count == 1:
        return packed.unsqueeze(-1)
    shifts = torch.arange(count, dtype=packed.dtype, device=packed.device) * (8 * sample.itemsize)
    return (packed.unsqueeze(-1) >> shifts).to(sample)


def pack(planes: Sequence[torch.Tensor]) -> torch.Tensor:
    """Floating planes of one shape as one tensor whose last axis interleaves them (``planes[b]``
    at ``b``, ``b + len(planes)``, ...); contiguous."""
    return words(planes).contiguous().view(planes[0].dtype)


def unpack(interleaved: torch.Tensor, count: int) -> torch.Tensor:
    """The planes :func:`pack` interleaved into the last axis of a contiguous tensor, stacked on a
    new last axis (a view for one plane; one pass over the words otherwise)."""
    if count == 1:
        return interleaved.unsqueeze(-1)
    dtype = interleaved.dtype
    return unwords(interleaved.view(word(dtype, count)), count, SAME_SIZE[dtype]).view(dtype)


def packing_reasons(dtype: torch.dtype, stride: int) -> list[str]:
    """Why an output of ``dtype`` whose innermost axis has ``stride`` cannot be written through
    words: its dtype, or no word holding that many samples."""
    if dtype not in SAME_SIZE:
        return [f"dtype {dtype}: compiled for float16, bfloat16, float32 and float64 only"]
    if word(dtype, stride) is None:
        return [
            f"innermost stride {stride}: no integer word holds {stride} {str(dtype).removeprefix('torch.')} "
            "samples (stride 1; 2 for float32; 2 or 4 for float16 and bfloat16)"
        ]
    return []
