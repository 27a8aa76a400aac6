"""tconv: convolutions that change resolution, exact in every framework's vocabulary, and fast.

Design
------
One path for data, the same for the three op families::

    public function  ->  plan                 ->  algorithm              ->  result
    (functional.py)      (plan.py: pure           (algorithms/*.py,
                          Python, no tensors)      one file each)

The folders are layers; a module imports only from its own layer or the ones below it
(``tests/test_layers.py`` checks it):

1. :mod:`tconv.core`: what every family shares. ``geometry`` is the window model (every
   framework's padding as a window of the full output, per axis) and computes every shape;
   ``plan`` holds the facts every plan carries and the argument checks; ``algorithm`` what an
   algorithm is (a name, readable reasons why not, a run); ``dispatch`` the one dispatcher
   (forced name, order of preference, autotuning, export) with ``autotune`` and its disk cache;
   ``entry`` the way into every op (tensor checks, autocast, plan cache); ``compiling`` the
   kernels compiled by inductor; ``testing`` one vocabulary for cases and comparisons.
2. :mod:`tconv.kernels`: building blocks several algorithms share (PyTorch's ops by number of
   axes, polyphase weights, packing into words, taps), knowing no plan.
3. The families, each with the same rooms (``functional``, ``plan``, ``algorithms/``,
   ``preference``, ``reference``, ``testing``): :mod:`tconv.transposed` (transposed
   convolutions in every framework's padding vocabulary), :mod:`tconv.fused` (upsampling + conv,
   conv + average pooling, as one convolution; it reaches the transposed family only through its
   dispatcher and the algorithms' declared interface) and :mod:`tconv.custom` (convolutions with
   your own combine and reduce).
4. :mod:`tconv.nn`: thin modules, one file per family over a shared base.
5. :mod:`tconv.interop` (weight layouts of every framework, Keras layers without TensorFlow) and
   :mod:`tconv.optimize` (rewriting a model's resampling patterns into tconv's modules).
6. The tools: :mod:`tconv.check`, :mod:`tconv.bench`, :mod:`tconv.cli`.

Each algorithm declares what it cannot run; ``algorithm="auto"`` takes the first capable one in
its family's order of preference (or, with :func:`set_autotune`, the one measured fastest), a name
forces one, and when none fits the error lists every reason; :func:`explain` tells which runs and
why, for any op: ``tconv.explain(tconv.upsample_conv2d, x, w, scale_factor=2)``.
"""

from . import nn
from . import transposed as algorithms
from .core import VERSION
from .core.autotune import set_autotune
from .core.compiling import set_compile
from .core.dispatch import NoAlgorithmError
from .custom.functional import custom_conv1d, custom_conv2d, custom_conv3d, explain_custom
from .fused.functional import (
    conv_pool1d,
    conv_pool2d,
    conv_pool3d,
    explain_fused,
    upsample_conv1d,
    upsample_conv2d,
    upsample_conv3d,
)
from .interop.keras import from_keras
from .interop.layouts import LAYOUTS, convert_weight
from .optimize import OptimizeReport, optimize
from .transposed.functional import conv_transpose1d, conv_transpose2d, conv_transpose3d, explain

__version__ = VERSION

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
