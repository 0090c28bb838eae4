"""Pooling: summarise each window of a feature map by its max, mean or sum.

Notebook 05 teaches pooling and what it does to shifted inputs; notebook 06 derives the backward
pass (max sends the gradient to the winner of each window, mean spreads it evenly).

Shapes: x (N, C, H, W) -> (N, C, OH, OW) with ``OH = (H - KH) // SH + 1`` (likewise OW).
The stride defaults to the kernel size (non-overlapping windows); smaller strides overlap.
"""
import numpy as np

from ._validate import as_array, as_pair, check_ndim
from .windows import _output_hw

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


def _offset_slices(x_shape, kernel_size, stride, out_shape):
    """For each kernel offset (kh, kw), row-major, the slice of x that offset sees in every window.

    ``x[sl]`` has shape (N, C, OH, OW): pooling is then KH*KW elementwise passes over whole maps,
    which is faster in NumPy than reducing tiny (KH, KW) axes of a window view.
    """
    (KH, KW), (SH, SW), (_, _, OH, OW) = kernel_size, stride, out_shape
    return [
        (slice(None), slice(None), slice(kh, kh + SH * (OH - 1) + 1, SH), slice(kw, kw + SW * (OW - 1) + 1, SW))
        for kh in range(KH)
        for kw in range(KW)
    ]


def pool2d(x, kernel_size, stride=None, mode="max", *, cache=None):
    """Max, mean or sum pooling over (KH, KW) windows.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (KH, KW)
    stride : int or (SH, SW), default ``kernel_size``
    mode : {"max", "mean", "sum"}
    cache : dict, optional
        If given, the output is stored in it under ``"out"``; :func:`pool2d_backward` with the same
        dict then finds the window maxima there instead of pooling again.

    Returns
    -------
    out : ndarray, shape (N, C, OH, OW), ``OH = (H - KH) // SH + 1``
    """
    x, kernel_size, stride, out_shape = _check_pool(x, kernel_size, stride, mode)
    first, *rest = _offset_slices(x.shape, kernel_size, stride, out_shape)
    out = x[first].astype(_out_dtype(x, mode))  # (N, C, OH, OW), a fresh array
    combine = np.maximum if mode == "max" else np.add
    for sl in rest:
        combine(out, x[sl], out=out)
    if mode == "mean":
        out /= kernel_size[0] * kernel_size[1]
    if cache is not None:
        cache["out"] = out
    return out


def _grad_dtype(dout, x, mode):
    """dtype of dx: dout's and x's combined; booleans count as integers, mean makes integers float."""
    dtype = np.result_type(dout, x)
    if dtype.kind in "biu" and mode == "mean":
        return np.dtype(np.float64)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


def pool2d_backward(dout, x, kernel_size, stride=None, mode="max", *, cache=None):
    """Gradient of :func:`pool2d` with respect to its input.

    Parameters
    ----------
    dout : ndarray, shape (N, C, OH, OW)
    x : ndarray, shape (N, C, H, W), the forward input
    cache : dict, optional
        The dict given to :func:`pool2d` for this ``x`` (max mode reuses its output).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
        max: each window's gradient goes to its first largest element (row-major, as PyTorch);
        mean: spread evenly over the window; sum: copied to every element. Overlaps add up.
    """
    x, kernel_size, stride, out_shape = _check_pool(x, kernel_size, stride, mode)
    dout = _check_dout(dout, out_shape)
    dtype = _grad_dtype(dout, x, mode)
    g = dout.astype(dtype, copy=False)
    if mode == "mean":
        g = g / (kernel_size[0] * kernel_size[1])
    (KH, KW), (SH, SW), (OH, OW) = kernel_size, stride, out_shape[2:]
    disjoint = SH >= KH and SW >= KW  # no two windows share a pixel: write, don't add
    covering = disjoint and (SH, SW) == (KH, KW) and x.shape[2:] == (OH * KH, OW * KW)
    dx = np.empty(x.shape, dtype=dtype) if covering else np.zeros(x.shape, dtype=dtype)
    slices = _offset_slices(x.shape, kernel_size, stride, out_shape)
    if mode != "max":
        for sl in slices:
            if disjoint:
                dx[sl] = g
            else:
                dx[sl] += g
        return dx
    # Max: walk the offsets in row-major order; each window sends its gradient to the first
    # offset that holds its maximum, then stops listening.
    best = None if cache is None else cache.get("out")
    if best is None or best.shape != out_shape or best.dtype != x.dtype:
        best = pool2d(x, kernel_size, stride, "max")
    waiting = np.ones(out_shape, dtype=bool)  # windows whose maximum is not found yet
    hit = np.empty(out_shape, dtype=bool)
    for sl in slices:
        np.equal(x[sl], best, out=hit)
        hit &= waiting
        if disjoint:
            np.multiply(g, hit, out=dx[sl])  # dx[sl] is a view: this writes into dx
        else:
            dx[sl] += g * hit
        waiting ^= hit
    return dx


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
