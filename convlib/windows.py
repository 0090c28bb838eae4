"""Sliding windows over images without copying them: the machinery under every convolution.

Notebooks 01 (patches) and 03 (stride tricks) teach what is here: how many windows fit, how to
pad, how ``as_strided`` turns an image into a grid of windows that share its memory, and how
im2col lays those windows out as the rows of one matrix so a convolution becomes a matmul.

Output sizes follow one formula (PyTorch's):
``O = (I + 2*padding - dilation*(K - 1) - 1) // stride + 1``.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._validate import as_array, as_int, as_pair, check_ndim

__all__ = [
    "output_size",
    "pad2d",
    "sliding_windows",
    "make_patches",
    "im2col",
    "col2im",
    "add_windows",
]


def output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """How many positions a window of ``kernel_size`` takes along one axis of length ``size``.

    ``O = (size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1``

    Raises ValueError when the (dilated) window is larger than the padded input.
    """
    size = as_int(size, "size", 1)
    kernel_size = as_int(kernel_size, "kernel_size", 1)
    stride = as_int(stride, "stride", 1)
    padding = as_int(padding, "padding", 0)
    dilation = as_int(dilation, "dilation", 1)
    span = dilation * (kernel_size - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(
            f"kernel_size={kernel_size} (spanning {span} with dilation={dilation}) does not fit in "
            f"size={size} with padding={padding} (padded size {size + 2 * padding})"
        )
    return (size + 2 * padding - span) // stride + 1


def _output_hw(H, W, kernel_size, stride, padding, dilation):
    """Output height and width; the error names the axis that does not fit."""
    (KH, KW), (SH, SW), (PH, PW), (DH, DW) = kernel_size, stride, padding, dilation
    try:
        OH = output_size(H, KH, SH, PH, DH)
        OW = output_size(W, KW, SW, PW, DW)
    except ValueError as exc:
        raise ValueError(f"kernel_size={kernel_size} does not fit input of height x width {H}x{W}: {exc}") from None
    return OH, OW


def pad2d(x, padding):
    """Zero-pad the last two axes (height, width) of ``x``.

    Parameters
    ----------
    x : ndarray, shape (..., H, W)
    padding : int or (PH, PW)

    Returns
    -------
    ndarray, shape (..., H + 2*PH, W + 2*PW), same dtype as ``x`` (a new array).
    """
    x = as_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 dimensions (..., H, W), got shape {x.shape}")
    PH, PW = as_pair(padding, "padding", 0)
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * PH, x.shape[-1] + 2 * PW), dtype=x.dtype)
    out[..., PH:PH + x.shape[-2], PW:PW + x.shape[-1]] = x
    return out


def sliding_windows(x, kernel_size, stride=1, dilation=1):
    """Every (KH, KW) window of a batch of images, as a read-only view (no copy).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size, stride, dilation : int or pair

    Returns
    -------
    windows : ndarray view, shape (N, C, OH, OW, KH, KW)
        ``windows[n, c, i, j] == x[n, c, i*SH : i*SH + DH*(KH-1) + 1 : DH, j*SW : ... : DW]``.
        It shares memory with ``x``: writing into ``x`` changes the windows.
    """
    x = as_array(x, "x")
    check_ndim(x, "x", (4,), "(N, C, H, W)")
    N, C, H, W = x.shape
    KH, KW = as_pair(kernel_size, "kernel_size", 1)
    SH, SW = as_pair(stride, "stride", 1)
    DH, DW = as_pair(dilation, "dilation", 1)
    OH, OW = _output_hw(H, W, (KH, KW), (SH, SW), (0, 0), (DH, DW))
    sN, sC, sH, sW = x.strides
    # Moving to the next output row jumps SH image rows; moving inside a window jumps DH rows.
    strides = (sN, sC, sH * SH, sW * SW, sH * DH, sW * DW)
    return as_strided(x, shape=(N, C, OH, OW, KH, KW), strides=strides, writeable=False)


def make_patches(images, patch_size, stride=1):
    """Square patches of square grey images, as a read-only view.

    Parameters
    ----------
    images : ndarray, shape (N, H, W), or (N, H*W) for flattened square images
    patch_size : int
    stride : int

    Returns
    -------
    patches : ndarray view, shape (N, OH, OW, patch_size, patch_size)
        with ``OH = (H - patch_size) // stride + 1`` (likewise OW). Windows that would run past
        the edge are left out.
    """
    images = as_array(images, "images")
    check_ndim(images, "images", (2, 3), "(N, H, W) or (N, H*W)")
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(
                f"images of shape {images.shape} are not flattened square images: "
                f"{images.shape[1]} is not a perfect square"
            )
        images = images.reshape(images.shape[0], side, side)
    size = as_int(patch_size, "patch_size", 1)
    windows = sliding_windows(images[:, None], size, stride)  # (N, 1, OH, OW, p, p)
    return windows[:, 0]


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Lay every window of ``x`` out as one row of a matrix (a copy).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    cols : ndarray, shape (N*OH*OW, C*KH*KW)
        Rows in (n, i, j) order, columns in (c, kh, kw) order, so that
        ``cols @ w.reshape(F, -1).T`` is the convolution with weights ``w`` of shape (F, C, KH, KW).
    """
    x = as_array(x, "x")
    check_ndim(x, "x", (4,), "(N, C, H, W)")
    xp = pad2d(x, padding)
    win = sliding_windows(xp, kernel_size, stride, dilation)  # (N, C, OH, OW, KH, KW)
    N, C, OH, OW, KH, KW = win.shape
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)  # copies


def add_windows(target, values, stride=1, dilation=1):
    """Add ``values`` laid out as windows back into ``target`` in place, summing overlaps.

    The adjoint of :func:`sliding_windows`: for every kernel offset (kh, kw) one strided slice of
    ``target`` receives ``values[..., kh, kw]`` (KH*KW vectorized adds, no per-window loop).

    Parameters
    ----------
    target : ndarray, shape (N, C, H, W), modified in place
    values : ndarray, shape (N, C, OH, OW, KH, KW)
    """
    N, C, OH, OW, KH, KW = values.shape
    SH, SW = as_pair(stride, "stride", 1)
    DH, DW = as_pair(dilation, "dilation", 1)
    for kh in range(KH):
        for kw in range(KW):
            top, left = kh * DH, kw * DW
            rows = slice(top, top + SH * (OH - 1) + 1, SH)
            cols = slice(left, left + SW * (OW - 1) + 1, SW)
            target[:, :, rows, cols] += values[:, :, :, :, kh, kw]
    return target


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """The adjoint of :func:`im2col`: scatter rows back to image positions, summing overlaps.

    Parameters
    ----------
    cols : ndarray, shape (N*OH*OW, C*KH*KW)
    x_shape : tuple (N, C, H, W), the shape of the unpadded input given to ``im2col``

    Returns
    -------
    x : ndarray, shape (N, C, H, W), same dtype as ``cols``
    """
    cols = as_array(cols, "cols")
    if len(tuple(x_shape)) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape!r}")
    N, C, H, W = (as_int(s, "x_shape", 1) for s in x_shape)
    KH, KW = as_pair(kernel_size, "kernel_size", 1)
    PH, PW = as_pair(padding, "padding", 0)
    OH, OW = _output_hw(H, W, (KH, KW), as_pair(stride, "stride", 1), (PH, PW), as_pair(dilation, "dilation", 1))
    if cols.shape != (N * OH * OW, C * KH * KW):
        raise ValueError(
            f"cols must have shape (N*OH*OW, C*KH*KW) = {(N * OH * OW, C * KH * KW)} "
            f"for x_shape={tuple(x_shape)}, got {cols.shape}"
        )
    values = cols.reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 1, 2, 4, 5)  # (N, C, OH, OW, KH, KW)
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), dtype=cols.dtype)
    add_windows(xp, values, stride, dilation)
    return xp[:, :, PH:PH + H, PW:PW + W].copy()
