"""The transposed-convolution algorithms, one file each, in the order :func:`tconv.explain` lists
them (the reference, ``reference.py`` beside this package, comes last)."""

from __future__ import annotations

from .base import TransposedAlgorithm, spread_kernel
from .gemm import Gemm
from .native import Native
from .native_channels_last import NativeChannelsLast
from .nonoverlap import Nonoverlap
from .nonoverlap_compiled import NonoverlapCompiled
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

__all__ = ["FAST", "TransposedAlgorithm", "spread_kernel"]
