"""Pooling: summarise each window of a feature map by its max, mean or sum.

Notebook 05 teaches pooling and what it does to shifted inputs; notebook 06 derives the backward
pass (max sends the gradient to the winner of each window, mean spreads it evenly).

Shapes: x (N, C, H, W) -> (N, C, OH, OW) with ``OH = (H - KH) // SH + 1`` (likewise OW).
The stride defaults to the kernel size (non-overlapping windows); smaller strides overlap.
"""
import numpy as np

from ._validate import as_array, as_pair, check_ndim
from .windows import _output_hw, add_windows, sliding_windows

__all__ = ["POOL_MODES", "pool2d", "pool2d_backward", "pool2d_naive", "pool2d_backward_naive"]

POOL_MODES = ("max", "mean", "sum")


def _check_pool(x, kernel_size, stride, mode):
    x = as_array(x, "x")
    check_ndim(x, "x", (4,), "(N, C, H, W)")
    kernel_size = as_pair(kernel_size, "kernel_size", 1)
    stride = kernel_size if stride is None else as_pair(stride, "stride", 1)
    if not isinstance(mode, str) or mode not in POOL_MODES:
        raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
    OH, OW = _output_hw(x.shape[2], x.shape[3], kernel_size, stride, (0, 0), (1, 1))
    return x, kernel_size, stride, (x.shape[0], x.shape[1], OH, OW)


def _check_dout(dout, expected):
    dout = as_array(dout, "dout")
    if dout.shape != expected:
        raise ValueError(f"dout must have the pooled output's shape {expected}, got {dout.shape}")
    return dout


def _out_dtype(x, mode):
    """max and sum keep the input dtype; mean of integers gives float64."""
    if mode == "mean" and x.dtype.kind in "biu":
        return np.dtype(np.float64)
    return np.dtype(np.int64) if x.dtype.kind == "b" and mode == "sum" else x.dtype


def _grad_dtype(dout, x, mode):
    """dtype of dx: dout's and x's combined; booleans count as integers, mean makes integers float."""
    dtype = np.result_type(dout, x)
    if dtype.kind in "biu" and mode == "mean":
        return np.dtype(np.float64)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


def pool2d(x, kernel_size, stride=None, mode="max"):
    """Max, mean or sum pooling over (KH, KW) windows.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (KH, KW)
    stride : int or (SH, SW), default ``kernel_size``
    mode : {"max", "mean", "sum"}

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW)
    """
    x, kernel_size, stride, _ = _check_pool(x, kernel_size, stride, mode)
    win = sliding_windows(x, kernel_size, stride)  # (N, C, OH, OW, KH, KW)
    dtype = _out_dtype(x, mode)
    if mode == "max":
        return win.max(axis=(4, 5))
    if mode == "mean":
        return win.mean(axis=(4, 5), dtype=dtype)
    return win.sum(axis=(4, 5), dtype=dtype)


def _argmax_mask(win):
    """One-hot mask (N, C, OH, OW, KH, KW) marking the first maximum of each window (row-major),
    the element PyTorch also picks when there are ties."""
    N, C, OH, OW, KH, KW = win.shape
    flat = win.reshape(N, C, OH, OW, KH * KW)  # copies the windows once
    winner = flat.argmax(axis=-1)
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, winner[..., None], True, axis=-1)
    return mask.reshape(win.shape)


def pool2d_backward(dout, x, kernel_size, stride=None, mode="max"):
    """Gradient of :func:`pool2d` with respect to its input.

    Parameters
    ----------
    dout : ndarray, shape (N, C, OH, OW)
    x : ndarray, shape (N, C, H, W), the forward input

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        max: each window's gradient goes to its (first) largest element; mean: spread evenly over
        the window; sum: copied to every element. Overlapping windows add up.
    """
    x, (KH, KW), stride, out_shape = _check_pool(x, kernel_size, stride, mode)
    dout = _check_dout(dout, out_shape)
    dtype = _grad_dtype(dout, x, mode)
    g = dout.astype(dtype, copy=False)[..., None, None]  # (N, C, OH, OW, 1, 1)
    if mode == "max":
        values = g * _argmax_mask(sliding_windows(x, (KH, KW), stride))
    elif mode == "mean":
        values = np.broadcast_to(g / (KH * KW), out_shape + (KH, KW))
    else:
        values = np.broadcast_to(g, out_shape + (KH, KW))
    dx = np.zeros(x.shape, dtype=dtype)
    return add_windows(dx, values, stride)


def pool2d_naive(x, kernel_size, stride=None, mode="max"):
    """Loop version of :func:`pool2d`: visit every window and summarise it."""
    x, (KH, KW), (SH, SW), (N, C, OH, OW) = _check_pool(x, kernel_size, stride, mode)
    reduce = {"max": np.max, "mean": np.mean, "sum": np.sum}[mode]
    out = np.zeros((N, C, OH, OW), dtype=_out_dtype(x, mode))
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    out[n, c, i, j] = reduce(x[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW])
    return out


def pool2d_backward_naive(dout, x, kernel_size, stride=None, mode="max"):
    """Loop version of :func:`pool2d_backward`."""
    x, (KH, KW), (SH, SW), out_shape = _check_pool(x, kernel_size, stride, mode)
    dout = _check_dout(dout, out_shape)
    N, C, OH, OW = out_shape
    dx = np.zeros(x.shape, dtype=_grad_dtype(dout, x, mode))
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW]
                    g = dout[n, c, i, j]
                    if mode == "max":
                        r, s = np.unravel_index(np.argmax(window), window.shape)
                        dx[n, c, i * SH + r, j * SW + s] += g
                    elif mode == "mean":
                        dx[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW] += g / (KH * KW)
                    else:
                        dx[n, c, i * SH:i * SH + KH, j * SW:j * SW + KW] += g
    return dx
