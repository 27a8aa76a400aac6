"""Import of Keras ``Conv{1,2,3}DTranspose`` layers, without TensorFlow.

Keras chooses the output length itself, per axis (``ke`` = dilated kernel, ``op`` = output_padding):

=========  ===================  ===========================
padding    no output_padding    output_padding ``op``
=========  ===================  ===========================
``same``   ``i * s``            ``(i - 1) * s + ke % 2 + op``
``valid``  ``(i-1)*s + max(ke, s)``  ``L + op``
=========  ===================  ===========================

and then crops the full output with TensorFlow's SAME or VALID rule for that length. Each case is
a fixed window rule of tconv's: ``same`` without output_padding is ``"same"``; the others are
explicit ``(begin, end)`` crops plus an output_padding, which is how they are translated here.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

from ..core.geometry import effective_kernel
from ..core.plan import per_axis
from ..nn.transposed import CONV_TRANSPOSE, _ConvTransposeNd
from .layouts import convert_weight


def _keras_axis(
    padding: str, kernel: int, stride: int, dilation: int, output_padding: int | None
) -> tuple[tuple[int, int], int]:
    """One axis of a Keras layer as a tconv ``((begin, end), output_padding)``."""
    ke = effective_kernel(kernel, dilation)
    if padding == "valid":
        return (0, 0), max(0, stride - ke) if output_padding is None else output_padding
    crop = ke - ke % 2 - output_padding
    return ((crop // 2, crop - crop // 2), 0) if crop >= 0 else ((0, 0), -crop)


def from_keras(config: Mapping[str, object], weights: Sequence[np.ndarray]) -> _ConvTransposeNd:
    """A :class:`tconv.nn.ConvTransposeNd` equal to a Keras ``Conv{1,2,3}DTranspose`` layer.

    Args:
        config: the layer's ``get_config()`` (``filters``, ``kernel_size``, ``strides``,
            ``padding``, ``output_padding``, ``dilation_rate``, ``use_bias``; ``activation`` must
            be linear).
        weights: ``[kernel]`` or ``[kernel, bias]`` as numpy arrays (``get_weights()``); the kernel
            in Keras layout ``(*k, filters, in_channels)``.

    Returns:
        A module mapping ``(N, Cin, *spatial)`` to the channels-first version of what the Keras
        layer outputs, with the same ``dtype`` as the kernel.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"config: expected the layer's get_config() dict; got {type(config).__name__}")
    if not isinstance(weights, Sequence) or len(weights) not in (1, 2):
        raise ValueError("weights: expected [kernel] or [kernel, bias] (the layer's get_weights())")
    kernel = np.asarray(weights[0])
    ndim = kernel.ndim - 2
    if ndim not in CONV_TRANSPOSE:
        raise ValueError(
            f"weights: the kernel must have 3 to 5 dimensions (*k, filters, in_channels); got shape {kernel.shape}"
        )
    activation = config.get("activation")
    if activation not in (None, "linear"):
        raise ValueError(
            f"config: activation {activation!r} is not part of the convolution; apply it after the module, or use "
            "'linear'"
        )
    if config.get("groups", 1) != 1:
        raise ValueError(f"config: groups must be 1 for a Keras transposed convolution; got {config.get('groups')!r}")
    padding = str(config.get("padding", "valid")).lower()
    if padding not in ("same", "valid"):
        raise ValueError(f"config: padding must be 'same' or 'valid'; got {config.get('padding')!r}")
    kernel_size = per_axis(config.get("kernel_size", kernel.shape[:ndim]), ndim, "config['kernel_size']", minimum=1)
    if kernel_size != tuple(kernel.shape[:ndim]):
        raise ValueError(f"weights: kernel shape {kernel.shape} does not match kernel_size {kernel_size}")
    strides = per_axis(config.get("strides", 1), ndim, "config['strides']", minimum=1)
    dilation = per_axis(config.get("dilation_rate", 1), ndim, "config['dilation_rate']", minimum=1)
    raw_output_padding = config.get("output_padding")
    output_padding = (
        (None,) * ndim
        if raw_output_padding is None
        else per_axis(raw_output_padding, ndim, "config['output_padding']", minimum=0)
    )
    use_bias = bool(config.get("use_bias", True))
    if use_bias != (len(weights) == 2):
        raise ValueError(f"weights: use_bias={use_bias} needs {2 if use_bias else 1} arrays; got {len(weights)}")
    filters, in_channels = kernel.shape[ndim], kernel.shape[ndim + 1]
    if config.get("filters", filters) != filters:
        raise ValueError(f"weights: kernel has {filters} output channels but filters={config.get('filters')}")

    if padding == "same" and raw_output_padding is None:
        module_padding: object = "same"
        module_output_padding: tuple[int, ...] = (0,) * ndim
    else:
        axes = [
            _keras_axis(padding, k, s, d, op) for k, s, d, op in zip(kernel_size, strides, dilation, output_padding)
        ]
        module_padding = tuple(pads for pads, _ in axes)
        module_output_padding = tuple(op for _, op in axes)

    module = CONV_TRANSPOSE[ndim](
        in_channels,
        filters,
        kernel_size,
        stride=strides,
        padding=module_padding,
        output_padding=module_output_padding,
        bias=use_bias,
        dilation=dilation,
        dtype=torch.from_numpy(np.ascontiguousarray(kernel)).dtype,
    )
    with torch.no_grad():
        module.weight.copy_(convert_weight(kernel, "keras", "torch", transposed=True))
        if use_bias:
            module.bias.copy_(torch.from_numpy(np.asarray(weights[1])))
    return module


__all__ = ["from_keras"]
