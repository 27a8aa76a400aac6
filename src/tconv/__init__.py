"""tconv: convolutions that change resolution, exact in every framework's vocabulary, and fast.

Design
------
One path for data::

    public function  ->  plan               ->  algorithm            ->  result
    (functional.py)      (plan.py,              (algorithms/*.py,
                          geometry.py:           one file each)
                          pure Python)

* :mod:`tconv.geometry` is the window model: every framework's padding is a rule that cuts a
  window ``[begin, begin + length)`` out of the full transposed-convolution output, per axis.
  Shapes are computed there and nowhere else.
* :mod:`tconv.plan` checks every argument (``ValueError``/``TypeError`` naming it and its legal
  values) and reduces a call to a :class:`~tconv.plan.ConvTransposePlan`: no tensors.
* :mod:`tconv.algorithms` holds the algorithms. Each declares what it cannot run as readable
  reasons (``why_not``); ``algorithm="auto"`` takes the first capable one in a per-device order of
  preference (or, with :func:`set_autotune`, the one measured fastest), a name forces one, and
  when none fits the error lists every reason; :func:`explain` tells which runs and why.
  ``reference`` is the float64 definition.
* :mod:`tconv.fused` (upsampling + conv, conv + average pooling) and :mod:`tconv.custom`
  (convolutions with your own combine and reduce) follow the same path with their own plans
  and dispatchers.
* :mod:`tconv.nn` holds thin modules over the functions; :mod:`tconv.layouts` converts weights
  between frameworks; :mod:`tconv.keras` imports Keras layers without TensorFlow;
  :func:`tconv.optimize` rewrites a model's resampling patterns into tconv's modules.
"""

from . import algorithms, nn
from .algorithms import NoAlgorithmError
from .algorithms.autotune import set_autotune
from .compiling import set_compile
from .custom.functional import custom_conv1d, custom_conv2d, custom_conv3d, explain_custom
from .functional import conv_transpose1d, conv_transpose2d, conv_transpose3d, explain
from .fused.functional import (
    conv_pool1d,
    conv_pool2d,
    conv_pool3d,
    explain_fused,
    upsample_conv1d,
    upsample_conv2d,
    upsample_conv3d,
)
from .keras import from_keras
from .layouts import LAYOUTS, convert_weight
from .optimize import OptimizeReport, optimize

__version__ = "0.1.0"

__all__ = [
    "LAYOUTS",
    "NoAlgorithmError",
    "OptimizeReport",
    "algorithms",
    "conv_pool1d",
    "conv_pool2d",
    "conv_pool3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "convert_weight",
    "custom_conv1d",
    "custom_conv2d",
    "custom_conv3d",
    "explain",
    "explain_custom",
    "explain_fused",
    "from_keras",
    "nn",
    "optimize",
    "set_autotune",
    "set_compile",
    "upsample_conv1d",
    "upsample_conv2d",
    "upsample_conv3d",
]
