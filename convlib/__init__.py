"""convlib: convolutional neural networks from first principles, in NumPy.

The library behind the course notebooks in ``notebooks/``. Conventions follow PyTorch so that it
can serve as an oracle: images (N, C, H, W), kernels (F, C, KH, KW), cross-correlation (no kernel
flip), and the dtype of the inputs is preserved.
"""
from .conv import (
    conv1d,
    conv1d_backward,
    conv1d_backward_naive,
    conv1d_naive,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
)
from .pool import POOL_MODES, pool2d, pool2d_backward, pool2d_backward_naive, pool2d_naive
from .windows import add_windows, col2im, im2col, make_patches, output_size, pad2d, sliding_windows

__version__ = "0.1.0"

__all__ = [
    "output_size", "pad2d", "sliding_windows", "make_patches", "im2col", "col2im", "add_windows",
    "conv1d", "conv1d_backward", "conv1d_naive", "conv1d_backward_naive",
    "conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive",
    "POOL_MODES", "pool2d", "pool2d_backward", "pool2d_naive", "pool2d_backward_naive",
]
