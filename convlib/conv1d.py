"""1-D convolution (cross-correlation): a signal is an image of height 1, so conv1d is conv2d on
(N, C, 1, L).

Notebook 06 derives the backward pass on 1-D signals first, with the lecture's worked numbers:
x = [1, 2, 3, 4, 5] and w = [1, 1, 1] with padding 1 give [3, 6, 9, 12, 9], dx = [2, 3, 3, 3, 2]
and dw = [10, 15, 14] for an upstream gradient of ones.

Shapes: x (N, C, L), w (F, C, K), b (F,), output (N, F, OL) with
``OL = (L + 2*padding - dilation*(K-1) - 1) // stride + 1``. A 1-D x is one signal and a 1-D w one
filter; the output then drops that axis.
"""
import numpy as np

from ._validate import as_array, as_int, check_ndim
from .conv import _check_dout, _result_dtype, conv2d, conv2d_backward, conv2d_backward_naive
from .windows import _output_hw

__all__ = ["conv1d", "conv1d_backward", "conv1d_naive", "conv1d_backward_naive"]


def _as_3d(x, w):
    """Accept 1-D x (one signal) and 1-D w (one filter); return (N, C, L), (F, C, K) views."""
    x = as_array(x, "x")
    w = as_array(w, "w")
    check_ndim(x, "x", (1, 3), "(N, C, L) or (L,)")
    check_ndim(w, "w", (1, 3), "(F, C, K) or (K,)")
    return (x.reshape(1, 1, -1) if x.ndim == 1 else x), (w.reshape(1, 1, -1) if w.ndim == 1 else w)


def _squeeze_out(out, x_ndim, w_ndim):
    """(N, F, L) -> drop N when x was one signal, F when w was one filter."""
    if w_ndim == 1:
        out = out[:, 0]
    if x_ndim == 1:
        out = out[0]
    return out


def _conv1d_args(stride, padding, dilation):
    """A 1-D stride, padding and dilation as the (height, width) pairs of the equivalent 2-D call."""
    return (1, as_int(stride, "stride", 1)), (0, as_int(padding, "padding", 0)), (1, as_int(dilation, "dilation", 1))


def _lift_b(b, w_ndim):
    if b is None:
        return None
    b = as_array(b, "b")
    return b.reshape(1) if (w_ndim == 1 and b.size == 1) else b


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    """1-D cross-correlation.

    Parameters
    ----------
    x : ndarray, shape (N, C, L), or (L,) for a single signal
    w : ndarray, shape (F, C, K), or (K,) for a single filter
    b : ndarray, shape (F,), optional (a scalar when w is 1-D)
    stride, padding, dilation : int

    Returns
    -------
    out : ndarray, shape (N, F, OL) with ``OL = (L + 2*padding - dilation*(K-1) - 1) // stride + 1``;
        the N axis is dropped when x is 1-D and the F axis when w is 1-D.
    """
    x3, w3 = _as_3d(x, w)
    s, p, d = _conv1d_args(stride, padding, dilation)
    out = conv2d(x3[:, :, None, :], w3[:, :, None, :], _lift_b(b, np.ndim(w)), s, p, d)[:, :, 0, :]
    return _squeeze_out(out, np.ndim(x), np.ndim(w))


def _dout_3d(dout, x3, w3, x_ndim, w_ndim, s, p, d):
    """Validate dout against the (possibly squeezed) output shape; return it as (N, F, 1, OL)."""
    OL = _output_hw(1, x3.shape[2], (1, w3.shape[2]), s, p, d)[1]
    expected = _squeeze_out(np.empty((x3.shape[0], w3.shape[0], OL), dtype=np.int8), x_ndim, w_ndim).shape
    dout = _check_dout(dout, expected)
    return dout.reshape(x3.shape[0], w3.shape[0], 1, OL)


def _conv1d_grads(backward, dout, x, w, stride, padding, dilation):
    x3, w3 = _as_3d(x, w)
    s, p, d = _conv1d_args(stride, padding, dilation)
    if w3.shape[1] != x3.shape[1]:  # checked here so dout's expected shape below is meaningful
        raise ValueError(f"w has {w3.shape[1]} input channels (shape {w3.shape}) but x has {x3.shape[1]} (shape {x3.shape})")
    d4 = _dout_3d(dout, x3, w3, np.ndim(x), np.ndim(w), s, p, d)
    dx, dw, db = backward(d4, x3[:, :, None, :], w3[:, :, None, :], s, p, d)
    return dx.reshape(np.shape(x)), dw.reshape(np.shape(w)), (db[0] if np.ndim(w) == 1 else db)


def conv1d_backward(dout, x, w, stride=1, padding=0, dilation=1):
    """Gradients of :func:`conv1d`: returns (dx, dw, db) shaped like x, w and (F,)
    (db is a scalar when w is 1-D). ``dout`` has the shape :func:`conv1d` returned."""
    return _conv1d_grads(conv2d_backward, dout, x, w, stride, padding, dilation)


def conv1d_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """Loop version of :func:`conv1d`: slide the filter along the padded signal."""
    x3, w3 = _as_3d(x, w)
    (_, S), (_, P), (_, D) = _conv1d_args(stride, padding, dilation)
    b = _lift_b(b, np.ndim(w))
    if w3.shape[1] != x3.shape[1]:
        raise ValueError(f"w has {w3.shape[1]} input channels (shape {w3.shape}) but x has {x3.shape[1]} (shape {x3.shape})")
    if b is not None and b.shape != (w3.shape[0],):
        raise ValueError(f"b must have shape (F,) = ({w3.shape[0]},) to match w, got {b.shape}")
    N, C, L = x3.shape
    F, _, K = w3.shape
    OL = _output_hw(1, L, (1, K), (1, S), (0, P), (1, D))[1]
    dtype = _result_dtype(x3, w3, *([] if b is None else [b]))
    xp = np.zeros((N, C, L + 2 * P), dtype=dtype)
    xp[:, :, P:P + L] = x3
    out = np.zeros((N, F, OL), dtype=dtype)
    for n in range(N):
        for f in range(F):
            for i in range(OL):
                for k in range(K):
                    out[n, f, i] += np.sum(xp[n, :, i * S + k * D] * w3[f, :, k])
                if b is not None:
                    out[n, f, i] += b[f]
    return _squeeze_out(out, np.ndim(x), np.ndim(w))


def conv1d_backward_naive(dout, x, w, stride=1, padding=0, dilation=1):
    """Loop version of :func:`conv1d_backward`."""
    return _conv1d_grads(conv2d_backward_naive, dout, x, w, stride, padding, dilation)
