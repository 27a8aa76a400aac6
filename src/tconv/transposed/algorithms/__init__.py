"""The transposed-convolution algorithms, one file each, in the order :func:`tconv.explain` lists
them; :data:`FAST` are those ``"auto"`` chooses from, :class:`Reference` (the float64 definition,
forced by name only) comes last."""

from __future__ import annotations

from .base import TransposedAlgorithm, spread_kernel
from .gemm import Gemm
from .native import Native
from .native_channels_last import NativeChannelsLast
from .nonoverlap import Nonoverlap
from .nonoverlap_compiled import NonoverlapCompiled
from .reference import Reference
from .subpixel import Subpixel
from .subpixel_compiled import SubpixelCompiled

FAST: tuple[TransposedAlgorithm, ...] = (
    Native(),
    NativeChannelsLast(),
    Nonoverlap(),
    NonoverlapCompiled(),
    Subpixel(),
    SubpixelCompiled(),
    Gemm(),
)

__all__ = ["FAST", "Reference", "TransposedAlgorithm", "spread_kernel"]
