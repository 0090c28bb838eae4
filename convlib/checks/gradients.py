"""Checks for the exercises of notebook 06 (backward passes of convolution and pooling)."""
import numpy as np

from ..conv import conv2d_backward
from ..conv1d import conv1d_backward
from ..pool import pool2d_backward
from ._core import _arrays_differ, _never_raises, _run

__all__ = ["check_conv1d_backward", "check_max_pool_backward", "check_conv2d_dw"]


def _small_ints(rng, shape):
    """float64 array of small nonzero integers in -3..3: easy to read, exact in float64."""
    values = rng.integers(1, 4, shape) * rng.choice([-1, 1], shape)
    return values.astype(np.float64)


def _grads_differ(names):
    """A differ for answers that are a tuple of arrays, e.g. ``(dx, dw)``; names the wrong one."""
    def differ(expected, got):
        if not isinstance(got, (tuple, list)):
            return f"expected a tuple ({', '.join(names)}), got {type(got).__name__}"
        if len(got) != len(expected):
            return f"expected a tuple of {len(expected)} arrays ({', '.join(names)}), got {len(got)} items"
        for name, e, g in zip(names, expected, got):
            problem = "returned None" if g is None else _arrays_differ(e, g)
            if problem:
                return f"{name}: {problem}"
        return None
    return differ


@_never_raises
def check_conv1d_backward(fn, n_cases=20, seed=0):
    """Check ``fn(dout, x, w) -> (dx, dw)``, the gradients of a 1-D valid cross-correlation.

    The forward pass is ``out[i] = sum_k x[i + k] * w[k]`` (no padding, stride 1, no flip):
    ``x`` has shape (L,), ``w`` (K,) and ``out`` and ``dout`` (L - K + 1,). ``fn`` returns
    ``dx`` (L,) and ``dw`` (K,), the gradients of ``sum(out * dout)``, as
    ``convlib.conv1d_backward(dout, x, w)[:2]``. Kernels are never symmetric, so a flipped kernel
    gives another answer. Returns True if every case agrees; prints the first failure otherwise.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        L = 3 if k == 0 else int(rng.integers(3, 4 + k))
        K = 2 if k == 0 else int(rng.integers(2, min(L, 5) + 1))
        x, w = _small_ints(rng, L), _small_ints(rng, K)
        w[-1] = w[0] - 1 if w[0] in (-1, 3) else w[0] + 1  # nonzero and != w[0]: never symmetric
        cases.append((_small_ints(rng, L - K + 1), x, w))
    cases.sort(key=lambda c: (c[1].size, c[2].size))

    def reference(dout, x, w):
        dx, dw, _ = conv1d_backward(dout, x, w)
        return dx, dw

    return _run("conv1d backward", fn, ("dout", "x", "w"), cases, reference, _grads_differ(("dx", "dw")))


@_never_raises
def check_max_pool_backward(fn, n_cases=20, seed=0):
    """Check ``fn(dout, x, size) -> dx`` for max pooling over non-overlapping size x size windows.

    ``x`` (H, W) holds distinct values (no ties); window (i, j) is ``x[i*size:(i+1)*size,
    j*size:(j+1)*size]`` and ``dout`` has shape (H // size, W // size): rows and columns that do not
    fill a whole window are not pooled, and their gradient is zero. ``dx`` (H, W) receives
    ``dout[i, j]`` at the position of the largest value of window (i, j) and zero elsewhere, as
    ``convlib.pool2d_backward(dout[None, None], x[None, None], size)[0, 0]``.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        size = 2 if k < 2 else int(rng.integers(2, 4))
        H, W = (2, 2) if k == 0 else (4, 4) if k == 1 else tuple(int(v) for v in rng.integers(size, 4 * size + 2, 2))
        x = rng.permutation(H * W).reshape(H, W).astype(np.float64)  # distinct values: no ties
        cases.append((_small_ints(rng, (H // size, W // size)), x, size))
    cases.sort(key=lambda c: (c[1].size, c[2]))

    def reference(dout, x, size):
        return pool2d_backward(dout[None, None], x[None, None], size)[0, 0]

    return _run("max pool backward", fn, ("dout", "x", "size"), cases, reference, _arrays_differ)


@_never_raises
def check_conv2d_dw(fn, n_cases=20, seed=0):
    """Check ``fn(dout, x, w) -> dw``, the weight gradient of a 2-D valid cross-correlation.

    ``x`` (N, C, H, W), ``w`` (F, C, KH, KW) (only its shape matters), ``dout`` (N, F, OH, OW)
    with ``OH = H - KH + 1`` (stride 1, no padding). ``dw`` (F, C, KH, KW) is the gradient of
    ``sum(conv2d(x, w) * dout)``: ``dw[f, c, kh, kw] = sum_{n,i,j} dout[n, f, i, j] *
    x[n, c, i + kh, j + kw]``, summed over the batch, as ``convlib.conv2d_backward(dout, x, w)[1]``.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        if k == 0:
            N, C, F, H, W, KH, KW = 1, 1, 1, 3, 3, 2, 2
        else:
            N, C, F = (int(v) for v in rng.integers(1, 4, 3))
            H, W = (int(v) for v in rng.integers(3, 8, 2))
            KH, KW = int(rng.integers(1, H + 1)), int(rng.integers(2, W + 1))
        x, w = _small_ints(rng, (N, C, H, W)), _small_ints(rng, (F, C, KH, KW))
        cases.append((_small_ints(rng, (N, F, H - KH + 1, W - KW + 1)), x, w))
    cases.sort(key=lambda c: (c[1].size, c[2].size))
    return _run("conv2d dw", fn, ("dout", "x", "w"), cases,
                lambda dout, x, w: conv2d_backward(dout, x, w)[1], _arrays_differ)
