"""The custom-convolution algorithms, one file each (``kernel.py``: the patch kernel ``chunked``
and ``compiled`` share), in the order :func:`tconv.explain` lists them (the reference,
``reference.py``, which runs the definition in ``../reference.py``, comes last and is not among
:data:`FAST`)."""

from __future__ import annotations

from ...core.algorithm import Algorithm
from .chunked import Chunked
from .compiled import Compiled
from .conv import Conv
from .unfold import Unfold

FAST: tuple[Algorithm, ...] = (Conv(), Compiled(), Chunked(), Unfold())

__all__ = ["FAST"]
