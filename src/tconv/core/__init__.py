"""What every op family shares: the window model and every shape (:mod:`.geometry`), the facts
and argument checks of every plan (:mod:`.plan`), what an algorithm is (:mod:`.algorithm`), the
dispatcher with autotuning (:mod:`.dispatch`, :mod:`.autotune`), the way into every op
(:mod:`.entry`), inductor-compiled kernels (:mod:`.compiling`) and one testing vocabulary
(:mod:`.testing`). Nothing here imports from the families above it."""

#: The package's version (``tconv.__version__``).
VERSION = "0.1.0"
