"""Building blocks that several algorithms share, of any family: PyTorch's ops by number of axes
(:mod:`.ops`), polyphase weights and convolutions (:mod:`.phases`), samples packed into integer
words for compiled loops (:mod:`.packing`), kernel taps gathered as views (:mod:`.taps`).

Nothing here knows a plan: the blocks take tensors and numbers, so that the families above
(:mod:`tconv.transposed`, :mod:`tconv.fused`, :mod:`tconv.custom`) use them without importing
each other's algorithms.
"""
