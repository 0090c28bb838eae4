"""2-D convolution (cross-correlation, as in PyTorch), forward and backward (1-D: :mod:`convlib.conv1d`).

Notebook 02 applies filters by hand, 03 builds the vectorized forward, 04 adds padding, stride
and channels, and 06 derives the backward pass that is coded here. Each vectorized function has
a ``_naive`` twin written with explicit loops, the way the lectures first write it.

Shapes: x (N, C, H, W), w (F, C, KH, KW), b (F,), output (N, F, OH, OW) with
``OH = (H + 2*padding - dilation*(KH-1) - 1) // stride + 1`` (likewise OW).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._validate import as_array, as_pair, check_ndim
from .windows import _output_hw, add_windows, pad2d, sliding_windows

__all__ = ["conv2d", "conv2d_backward", "conv2d_naive", "conv2d_backward_naive"]


def _result_dtype(*arrays):
    """The dtype NumPy would give the result; booleans count as integers."""
    dtype = np.result_type(*arrays)
    return np.dtype(np.int64) if dtype.kind == "b" else dtype


def _check_conv2d(x, w, b, stride, padding, dilation):
    """Validate the arguments shared by every 2-D convolution; return them normalised."""
    x = as_array(x, "x")
    w = as_array(w, "w")
    check_ndim(x, "x", (4,), "(N, C, H, W)")
    check_ndim(w, "w", (4,), "(F, C, KH, KW)")
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w has {w.shape[1]} input channels (shape {w.shape}) but x has {x.shape[1]} (shape {x.shape})"
        )
    if b is not None:
        b = as_array(b, "b")
        if b.shape != (w.shape[0],):
            raise ValueError(f"b must have shape (F,) = ({w.shape[0]},) to match w, got {b.shape}")
    stride = as_pair(stride, "stride", 1)
    padding = as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    OH, OW = _output_hw(x.shape[2], x.shape[3], w.shape[2:], stride, padding, dilation)
    return x, w, b, stride, padding, dilation, (x.shape[0], w.shape[0], OH, OW)


def _check_dout(dout, expected):
    dout = as_array(dout, "dout")
    if dout.shape != tuple(expected):
        raise ValueError(f"dout must have the output's shape {tuple(expected)}, got {dout.shape}")
    return dout


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, *, cache=None):
    """2-D cross-correlation of a batch of images with a bank of filters.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,), optional
    stride, padding, dilation : int or (height, width) pair
    cache : dict, optional
        If given, the window columns built here are stored in it so that
        :func:`conv2d_backward` called with the same dict skips rebuilding them (a layer keeps one
        such dict between its forward and backward pass; ``x`` must not change in between).

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW), dtype of ``x``, ``w`` (and ``b``) combined
        ``out[n, f, i, j] = sum_{c,kh,kw} xpad[n, c, i*SH + kh*DH, j*SW + kw*DW] * w[f, c, kh, kw] + b[f]``
    """
    x, w, b, stride, padding, dilation, (N, F, OH, OW) = _check_conv2d(x, w, b, stride, padding, dilation)
    dtype = _result_dtype(x, w, *([] if b is None else [b]))
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    bias = None if b is None else b.astype(dtype, copy=False)
    if _channels_last(x.shape[1], w.shape[3], OW, stride, dilation):
        cols = _columns_last(x, w.shape[2:], stride, padding, dilation, (OH, OW))  # (N*OH*OW, KH*KW*C)
        # One GEMM for the whole batch: (N*OH*OW, KH*KW*C) @ (KH*KW*C, F) gives the output
        # channels-last; a single transposing copy puts it back in (N, F, OH, OW) order.
        out = cols @ w.transpose(2, 3, 1, 0).reshape(-1, F)
        out = _to_channels_first(out.reshape(N, OH, OW, F), bias)
    else:
        cols = _columns(x, w.shape[2:], stride, padding, dilation)  # (N, C*KH*KW, OH*OW)
        # One batched matmul (F, C*KH*KW) @ (C*KH*KW, OH*OW) per image lands directly in NCHW order.
        out = np.matmul(w.reshape(F, -1), cols)  # (N, F, OH*OW)
        if bias is not None:
            out += bias[:, None]
        out = out.reshape(N, F, OH, OW)
    if cache is not None:
        cache["cols"] = cols
    return out


def _channels_last(C, KW, OW, stride, dilation):
    """Whether the columns of a convolution are better built channels-last.

    Building columns is a copy, and copies are fast when they move long contiguous runs. Columns
    in (N, C, KH, KW, OH, OW) order copy runs of OW pixels along an image row (when the stride is
    1); channels-last columns (N, OH, OW, KH, KW, C) copy runs of KW*C values from an (N, H, W, C)
    image (C alone with dilation). A grey first layer (C = 1) prefers the former, deeper layers
    with many channels and small maps the latter, which also lets the whole batch share one GEMM.
    """
    run_last = C * (KW if dilation[1] == 1 else 1)
    run_first = OW if stride[1] == 1 else 1
    return run_last >= run_first


def _to_channels_first(a, bias=None):
    """(N, H, W, C) -> a new C-contiguous (N, C, H, W) array, plus ``bias[c]`` if given (same pass)."""
    out = np.empty((a.shape[0], a.shape[3], a.shape[1], a.shape[2]), dtype=a.dtype)
    if bias is None:
        out[...] = a.transpose(0, 3, 1, 2)
    else:
        np.add(a.transpose(0, 3, 1, 2), bias[:, None, None], out=out)
    return out


def _columns(x, kernel_size, stride, padding, dilation):
    """Every window of the padded ``x`` as a column: shape (N, C*KH*KW, OH*OW), a copy.

    The transposed layout of :func:`~convlib.windows.im2col`, chosen so the forward pass is one
    batched matmul whose result is already (N, F, OH*OW), and the copy reads rows of OW pixels.
    """
    xp = pad2d(x, padding) if any(padding) else x
    win = sliding_windows(xp, kernel_size, stride, dilation)  # (N, C, OH, OW, KH, KW) view
    N, C, OH, OW, KH, KW = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, OH * OW)


def _columns_last(x, kernel_size, stride, padding, dilation, out_hw):
    """Every window of the padded ``x`` as a row, channels-last: shape (N*OH*OW, KH*KW*C), a copy.

    ``x`` is first copied into a zero-bordered (N, H + 2*PH, W + 2*PW, C) array (padding and
    transposing in one pass); in that layout the KW pixels of a window row are KW*C consecutive
    values, so the window copy moves whole runs of them.
    """
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), (PH, PW), (DH, DW), (OH, OW) = kernel_size, stride, padding, dilation, out_hw
    shape = (N, H + 2 * PH, W + 2 * PW, C)
    xh = np.zeros(shape, dtype=x.dtype) if (PH or PW) else np.empty(shape, dtype=x.dtype)
    xh[:, PH:PH + H, PW:PW + W] = x.transpose(0, 2, 3, 1)
    sN, sH, sW, sC = xh.strides
    win = as_strided(xh, shape=(N, OH, OW, KH, KW, C), strides=(sN, sH * SH, sW * SW, sH * DH, sW * DW, sC),
                     writeable=False)
    return win.reshape(N * OH * OW, KH * KW * C)  # copies


def conv2d_backward(dout, x, w, stride=1, padding=0, dilation=1, *, cache=None, need_dx=True):
    """Gradients of a 2-D convolution with respect to its input, weights and bias.

    Parameters
    ----------
    dout : ndarray, shape (N, F, OH, OW), the upstream gradient dL/dout
    x : ndarray, shape (N, C, H, W), the forward input
    w : ndarray, shape (F, C, KH, KW), the forward weights
    cache : dict, optional
        The dict given to :func:`conv2d` for this ``x``: its columns are reused.
    need_dx : bool, default True
        False skips the input gradient (a network's first layer has no use for it) and returns
        ``None`` in its place.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None when ``need_dx`` is False
        every output pixel sends ``dout * w`` back to the window it saw (overlaps add up)
    dw : ndarray, shape (F, C, KH, KW)
        ``sum_n dout[n] @ cols[n].T``: each weight collects ``dout`` times the pixels it met
    db : ndarray, shape (F,)
    """
    x, w, _, stride, padding, dilation, (N, F, OH, OW) = _check_conv2d(x, w, None, stride, padding, dilation)
    dout = _check_dout(dout, (N, F, OH, OW))
    dtype = _result_dtype(dout, x, w)
    dout, x, w = (a.astype(dtype, copy=False) for a in (dout, x, w))
    _, C, KH, KW = w.shape
    last = _channels_last(C, KW, OW, stride, dilation)
    shape = (N * OH * OW, KH * KW * C) if last else (N, C * KH * KW, OH * OW)
    cols = None if cache is None else cache.get("cols")
    if cols is None or cols.shape != shape or cols.dtype != dtype:
        cols = (_columns_last(x, (KH, KW), stride, padding, dilation, (OH, OW)) if last
                else _columns(x, (KH, KW), stride, padding, dilation))
    backward = _backward_last if last else _backward_first
    return backward(dout, x, w, cols, stride, padding, dilation, need_dx)


def _backward_first(dout, x, w, cols, stride, padding, dilation, need_dx):
    """conv2d_backward with (N, C*KH*KW, OH*OW) columns: per-image GEMMs, dx in NCHW."""
    N, F, OH, OW = dout.shape
    _, C, H, W = x.shape
    _, _, KH, KW = w.shape
    (PH, PW) = padding
    d = dout.reshape(N, F, OH * OW)
    db = d.sum(axis=(0, 2))
    dw = np.matmul(d, cols.transpose(0, 2, 1)).sum(axis=0).reshape(F, C, KH, KW)
    if not need_dx:
        return None, dw, db
    dcols = np.matmul(w.reshape(F, -1).T, d)  # (N, C*KH*KW, OH*OW)
    dxp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=dout.dtype)
    # Scatter the columns back, one strided add per kernel offset (KH*KW adds in all).
    add_windows(dxp, dcols.reshape(N, C, KH, KW, OH, OW).transpose(0, 1, 4, 5, 2, 3), stride, dilation)
    dx = dxp[:, :, PH:PH + H, PW:PW + W] if (PH or PW) else dxp
    return np.ascontiguousarray(dx), dw, db


def _backward_last(dout, x, w, cols, stride, padding, dilation, need_dx):
    """conv2d_backward with channels-last (N*OH*OW, KH*KW*C) columns: whole-batch GEMMs."""
    N, F, OH, OW = dout.shape
    _, C, H, W = x.shape
    _, _, KH, KW = w.shape
    (SH, SW), (PH, PW), (DH, DW) = stride, padding, dilation
    # dout as (F, N*OH*OW): a copy that moves whole maps of OH*OW values.
    d = np.empty((F, N, OH * OW), dtype=dout.dtype)
    d[...] = dout.reshape(N, F, OH * OW).transpose(1, 0, 2)
    d = d.reshape(F, N * OH * OW)
    db = d.sum(axis=1)
    dw = (d @ cols).reshape(F, KH, KW, C).transpose(0, 3, 1, 2).copy()  # (F, C, KH, KW)
    if not need_dx:
        return None, dw, db
    # dx channels-last, one kernel offset at a time: the (N*OH*OW, C) gradient that offset sends
    # back is d.T @ w[:, :, kh, kw], added to the pixels it saw (a strided slice with runs of C).
    taps = w.transpose(2, 3, 0, 1).copy()  # (KH, KW, F, C)
    dxh = np.zeros((N, H + 2 * PH, W + 2 * PW, C), dtype=dout.dtype)
    part = np.empty((N * OH * OW, C), dtype=dout.dtype)
    for kh in range(KH):
        for kw in range(KW):
            np.matmul(d.T, taps[kh, kw], out=part)
            rows = slice(kh * DH, kh * DH + SH * (OH - 1) + 1, SH)
            cols_ = slice(kw * DW, kw * DW + SW * (OW - 1) + 1, SW)
            dxh[:, rows, cols_] += part.reshape(N, OH, OW, C)
    return _to_channels_first(dxh[:, PH:PH + H, PW:PW + W]), dw, db


def conv2d_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """Loop version of :func:`conv2d`: one output pixel at a time, as first written by hand."""
    x, w, b, (SH, SW), (PH, PW), (DH, DW), (N, F, OH, OW) = _check_conv2d(x, w, b, stride, padding, dilation)
    dtype = _result_dtype(x, w, *([] if b is None else [b]))
    _, C, H, W = x.shape
    _, _, KH, KW = w.shape
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=dtype)
    xp[:, :, PH:PH + H, PW:PW + W] = x
    out = np.zeros((N, F, OH, OW), dtype=dtype)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    top, left = i * SH, j * SW
                    patch = xp[n, :, top:top + DH * (KH - 1) + 1:DH, left:left + DW * (KW - 1) + 1:DW]
                    out[n, f, i, j] = np.sum(patch * w[f])
                    if b is not None:
                        out[n, f, i, j] += b[f]
    return out


def conv2d_backward_naive(dout, x, w, stride=1, padding=0, dilation=1):
    """Loop version of :func:`conv2d_backward`: every output pixel sends its gradient back
    to the patch it saw (for dx) and to the weights it used (for dw)."""
    x, w, _, (SH, SW), (PH, PW), (DH, DW), out_shape = _check_conv2d(x, w, None, stride, padding, dilation)
    dout = _check_dout(dout, out_shape)
    dtype = _result_dtype(dout, x, w)
    N, F, OH, OW = out_shape
    _, C, H, W = x.shape
    _, _, KH, KW = w.shape
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=dtype)
    xp[:, :, PH:PH + H, PW:PW + W] = x
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=dtype)
    db = np.zeros(F, dtype=dtype)
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    rows = slice(i * SH, i * SH + DH * (KH - 1) + 1, DH)
                    cols = slice(j * SW, j * SW + DW * (KW - 1) + 1, DW)
                    g = dout[n, f, i, j]
                    dxp[n, :, rows, cols] += g * w[f]
                    dw[f] += g * xp[n, :, rows, cols]
                    db[f] += g
    return dxp[:, :, PH:PH + H, PW:PW + W].copy(), dw, db
