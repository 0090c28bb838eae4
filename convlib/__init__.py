"""convlib: convolutional neural networks from first principles, in NumPy.

The library behind the course notebooks in ``notebooks/``. Conventions follow PyTorch so that it
can serve as an oracle: images (N, C, H, W), kernels (F, C, KH, KW), cross-correlation (no kernel
flip), and the dtype of the inputs is preserved.
"""
from . import filters
from .conv import conv2d, conv2d_backward, conv2d_backward_naive, conv2d_naive
from .conv1d import conv1d, conv1d_backward, conv1d_backward_naive, conv1d_naive
from .data import (
    FASHION_CLASSES,
    DownloadError,
    data_dir,
    load_fashion_mnist,
    load_mnist,
    load_mnist_pickle,
    load_mnist_sample,
    load_mnist_sample_raw,
    read_idx,
    verify_sample,
)
from .doctor import doctor
from .filters import (
    KERNELS,
    box_blur,
    diagonal_edge,
    emboss,
    gabor,
    gaussian_blur,
    identity,
    kernel,
    laplacian,
    list_kernels,
    outline,
    sharpen,
    sobel_x,
    sobel_y,
)
from .gradcheck import check_gradient, numerical_gradient, rel_error
from .pool import POOL_MODES, pool2d, pool2d_backward, pool2d_backward_naive, pool2d_naive
from .windows import add_windows, col2im, im2col, make_patches, output_size, pad2d, sliding_windows

__version__ = "0.1.0"

# Modules that pull in matplotlib or ipywidgets load on first use (``convlib.plot.show_image``),
# so ``import convlib`` stays light for scripts and the command line.
_LAZY_MODULES = ("plot", "widgets", "checks", "layers", "optim", "train")


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'convlib' has no attribute {name!r}")

__all__ = [
    # windows.py
    "output_size", "pad2d", "sliding_windows", "make_patches", "im2col", "col2im", "add_windows",
    # conv.py, conv1d.py
    "conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive",
    "conv1d", "conv1d_backward", "conv1d_naive", "conv1d_backward_naive",
    # pool.py
    "POOL_MODES", "pool2d", "pool2d_backward", "pool2d_naive", "pool2d_backward_naive",
    # doctor.py
    "doctor",
    # gradcheck.py
    "numerical_gradient", "rel_error", "check_gradient",
    # filters.py
    "filters", "KERNELS", "kernel", "list_kernels", "identity", "box_blur", "gaussian_blur", "sharpen",
    "laplacian", "sobel_x", "sobel_y", "emboss", "outline", "diagonal_edge", "gabor",
    # data.py
    "data_dir", "verify_sample", "load_mnist_sample", "load_mnist_sample_raw", "read_idx", "load_mnist",
    "load_mnist_pickle", "load_fashion_mnist", "FASHION_CLASSES", "DownloadError",
]
