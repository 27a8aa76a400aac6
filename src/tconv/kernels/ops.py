"""PyTorch's own ops by number of spatial axes, for every algorithm and baseline that calls them."""

from __future__ import annotations

import torch.nn.functional as F

F_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
F_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
F_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
