"""Checks for the exercises of notebooks 01-03 (patches, filters, stride tricks)."""
import numpy as np

from ..conv import conv2d
from ..windows import im2col, make_patches, output_size, sliding_windows
from ._core import _arrays_differ, _ints_differ, _never_raises, _run

__all__ = [
    "check_weight_count", "check_patches", "check_output_size", "check_feature_map",
    "check_diagonal_filter", "check_window_strides", "check_im2col",
]


@_never_raises
def check_weight_count(fn, n_cases=20, seed=0):
    """Check ``fn(image_size, patch_size, stride, units) -> (weights, outputs)`` of a convolutional layer.

    The layer has ``units`` units, each a ``patch_size`` x ``patch_size`` window of weights plus
    one bias, slid with ``stride`` over a square ``image_size`` x ``image_size`` image (no padding):
    ``weights = units * (patch_size**2 + 1)`` and ``outputs = units * P * P`` with
    ``P = (image_size - patch_size) // stride + 1``. The lecture's case (28, 10, 1, 20) gives
    (2020, 7220). Returns True if every case agrees; prints the first failure otherwise.
    """
    rng = np.random.default_rng(seed)
    cases = [(28, 10, 1, 20)]
    while len(cases) < n_cases:
        n = int(rng.integers(2, 33))
        cases.append((n, int(rng.integers(1, n + 1)), int(rng.integers(1, 5)), int(rng.integers(1, 33))))

    def reference(n, p, s, u):
        return (u * (p * p + 1), u * output_size(n, p, s) ** 2)

    return _run("weight count", fn, ("image_size", "patch_size", "stride", "units"),
                sorted(cases, key=lambda c: (c[0], c[1], c[3])), reference,
                lambda e, g: _ints_differ(e, g, exact_type=False))


@_never_raises
def check_output_size(fn, n_cases=20, seed=0):
    """Check ``fn(size, kernel_size, stride, padding) -> int``, the number of window positions.

    ``(size + 2*padding - kernel_size) // stride + 1``, as :func:`convlib.output_size`; only cases
    where the window fits are tried, and the answer must be an int (``//``, not ``/``).
    """
    rng = np.random.default_rng(seed)
    cases = [(28, 7, 7, 0), (28, 5, 2, 2)]
    while len(cases) < n_cases:
        n, p = int(rng.integers(1, 33)), int(rng.integers(0, 4))
        cases.append((n, int(rng.integers(1, n + 2 * p + 1)), int(rng.integers(1, 5)), p))
    return _run("output size", fn, ("size", "kernel_size", "stride", "padding"),
                sorted(cases, key=lambda c: (c[0], c[1])), output_size, _ints_differ)


def _image(rng, H, W, readable):
    """(H, W) float64: 0, 1, 2, ... row by row (easy to read when printed), or random small integers."""
    if readable:
        return np.arange(H * W, dtype=np.float64).reshape(H, W)
    return rng.integers(0, 10, (H, W)).astype(np.float64)


@_never_raises
def check_patches(fn, n_cases=20, seed=0):
    """Check ``fn(image, size, stride) -> patches`` of shape (OH, OW, size, size).

    ``image`` has shape (H, W) (not always square); ``patches[i, j] = image[i*stride : i*stride + size,
    j*stride : j*stride + size]``, with ``OH = (H - size) // stride + 1`` (likewise OW): windows
    that would run past the edge are left out. Compared with :func:`convlib.make_patches`.
    """
    rng = np.random.default_rng(seed)
    shapes = [(3, 3), (4, 4), (5, 5), (28, 28)]
    shapes += [tuple(int(v) for v in rng.integers(3, 21, 2)) for _ in range(n_cases - 4)]
    shapes.sort(key=lambda hw: hw[0] * hw[1])
    cases = []
    for k, (H, W) in enumerate(shapes):
        size = int(rng.integers(1, min(H, W) + 1)) if k > 1 else 2
        cases.append((_image(rng, H, W, k < 5), size, int(rng.integers(1, size + 2)) if k > 0 else 1))
    return _run("patches", fn, ("image", "size", "stride"), cases,
                lambda img, size, stride: np.array(make_patches(img[None], size, stride)[0]), _arrays_differ)


@_never_raises
def check_feature_map(fn, n_cases=20, seed=0):
    """Check ``fn(image, kernel) -> feature map``: the valid cross-correlation, no flip, no padding.

    ``image`` (H, W), ``kernel`` (KH, KW) (sometimes not square); the answer has shape
    (H - KH + 1, W - KW + 1) with ``out[i, j] = sum(image[i:i+KH, j:j+KW] * kernel)``, as
    ``convlib.conv2d(image[None, None], kernel[None, None])[0, 0]``.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        H, W = (3, 3) if k == 0 else tuple(int(v) for v in rng.integers(3, 4 + k, 2))
        KH = int(rng.integers(2, min(H, W) + 1)) if k else 2
        KW = KH if k % 3 or k == 0 else int(rng.integers(1, min(H, W) + 1))  # every third not square
        kernel = rng.integers(-2, 3, (KH, KW)).astype(np.float64)
        kernel[0, -1] = 3.0  # never symmetric: a flipped or transposed kernel gives another answer
        cases.append((_image(rng, H, W, k < 4), kernel))
    cases.sort(key=lambda c: c[0].size)
    return _run("feature map", fn, ("image", "kernel"), cases,
                lambda img, w: conv2d(img[None, None], w[None, None])[0, 0], _arrays_differ)


@_never_raises
def check_diagonal_filter(fn, n_cases=20, seed=0):
    """Check ``fn(size) -> (size, size)`` against :func:`convlib.filters.diagonal_edge` (direction "down").

    Cell (i, j) is -1 above the anti-diagonal (``i + j < size - 1``), +1 below it and 0 on it:
    for size 3, ``[[-1, -1, 0], [-1, 0, 1], [0, 1, 1]]``. Sizes 2, 3, ... are tried in order.
    """
    from ..filters import diagonal_edge

    cases = [(size,) for size in range(2, 2 + n_cases)]
    return _run("diagonal filter", fn, ("size",), cases, diagonal_edge, _arrays_differ)


_DTYPES = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.float64}


@_never_raises
def check_window_strides(fn, n_cases=20, seed=0):
    """Check ``fn(shape, itemsize, kernel_size, stride) -> strides`` of a window view, in bytes.

    ``x`` is a C-contiguous array of shape ``(D, H, W)`` whose items take ``itemsize`` bytes. Its
    windows over the last two axes, ``kernel_size`` square and ``stride`` apart, form a view of
    shape ``(D, OH, OW, kernel_size, kernel_size)`` with ``OH = (H - kernel_size) // stride + 1``;
    ``fn`` returns that view's 5 strides. The lecture's case: ``np.arange(24).reshape(2, 3, 4)``
    (int64, itemsize 8) with 2x2 windows, stride 1 -> shape (2, 2, 3, 2, 2), strides
    (96, 32, 8, 32, 8) = (12*8, 4*8, 8, 4*8, 8). Compared with :func:`convlib.sliding_windows`.
    """
    rng = np.random.default_rng(seed)
    cases = [((2, 3, 4), 8, 2, 1)]
    while len(cases) < n_cases:
        shape = tuple(int(v) for v in rng.integers(2, 12, 3))
        k = int(rng.integers(1, min(shape[1:]) + 1))
        cases.append((shape, int(rng.choice(list(_DTYPES))), k, int(rng.integers(1, 4))))

    def reference(shape, itemsize, k, s):
        x = np.zeros(shape, dtype=_DTYPES[itemsize])  # (D, H, W)
        st = sliding_windows(x[:, None], k, s).strides  # (D, 1, OH, OW, k, k)
        return (st[0],) + st[2:]

    return _run("window strides", fn, ("shape", "itemsize", "kernel_size", "stride"),
                sorted(cases, key=lambda c: (np.prod(c[0]), c[1])), reference, _ints_differ)


@_never_raises
def check_im2col(fn, n_cases=20, seed=0):
    """Check ``fn(x, kernel_size, stride) -> cols`` against :func:`convlib.im2col` (no padding).

    ``x`` (N, C, H, W); ``cols`` (N*OH*OW, C*KH*KW) with one row per window in (n, i, j) order and
    its columns in (c, kh, kw) order, so ``cols @ w.reshape(F, -1).T`` is the convolution.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        N, C = (1, 1) if k == 0 else (int(rng.integers(1, 3)), int(rng.integers(1, 4)))
        H, W = (3, 3) if k == 0 else tuple(int(v) for v in rng.integers(3, 10, 2))
        kernel_size = int(rng.integers(1, min(H, W) + 1)) if k else 2
        x = np.arange(N * C * H * W, dtype=np.float64).reshape(N, C, H, W)
        cases.append((x, kernel_size, int(rng.integers(1, 3)) if k else 1))
    cases.sort(key=lambda c: c[0].size)
    return _run("im2col", fn, ("x", "kernel_size", "stride"), cases, im2col, _arrays_differ)
