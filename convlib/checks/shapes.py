"""Checks for the exercises of notebooks 04 (padding, stride, channels) and 05 (pooling)."""
import numpy as np

from ..pool import pool2d
from ..windows import output_size
from ._core import _arrays_differ, _ints_differ, _never_raises, _run

__all__ = ["check_conv_output_shape", "check_param_count", "check_same_padding", "check_max_pool",
           "check_pool_output_size"]


@_never_raises
def check_conv_output_shape(fn, n_cases=20, seed=0):
    """Check ``fn(x_shape, w_shape, stride, padding, dilation) -> (N, F, OH, OW)``, a tuple of ints.

    ``x_shape = (N, C, H, W)``, ``w_shape = (F, C, KH, KW)``; ``stride``, ``padding`` and ``dilation``
    are ints used along both axes. ``OH = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1``
    (likewise OW with W and KW), as :func:`convlib.conv2d` gives. Inputs and kernels are often not
    square, and only cases where the dilated kernel fits are tried. The lecture's case
    ``((1000, 3, 24, 24), (4, 3, 3, 3), 1, 0, 1)`` gives (1000, 4, 22, 22).
    """
    rng = np.random.default_rng(seed)
    cases = [((1, 1, 5, 5), (1, 1, 3, 3), 1, 0, 1), ((1000, 3, 24, 24), (4, 3, 3, 3), 1, 0, 1)]
    while len(cases) < n_cases:
        N, C, F = (int(v) for v in rng.integers(1, 9, 3))
        H, W = (int(v) for v in rng.integers(3, 33, 2))
        KH, KW = (int(v) for v in rng.integers(1, 8, 2))
        s, p, d = int(rng.integers(1, 4)), int(rng.integers(0, 4)), int(rng.integers(1, 4))
        if d * (KH - 1) + 1 <= H + 2 * p and d * (KW - 1) + 1 <= W + 2 * p:
            cases.append(((N, C, H, W), (F, C, KH, KW), s, p, d))

    def reference(x_shape, w_shape, s, p, d):
        (N, _, H, W), (F, _, KH, KW) = x_shape, w_shape
        return (N, F, output_size(H, KH, s, p, d), output_size(W, KW, s, p, d))

    return _run("conv output shape", fn, ("x_shape", "w_shape", "stride", "padding", "dilation"),
                sorted(cases, key=lambda c: (c[0][2] * c[0][3], c[0][0])), reference, _ints_differ)


@_never_raises
def check_param_count(fn, n_cases=20, seed=0):
    """Check ``fn(in_channels, out_channels, kernel_size) -> int``: the weights and biases of a conv layer.

    ``kernel_size`` is a pair ``(KH, KW)``; the layer holds ``out_channels`` filters of shape
    ``(in_channels, KH, KW)`` and one bias per filter: ``out_channels * (in_channels*KH*KW + 1)``.
    The course CNN's layers: ``(1, 16, (5, 5))`` -> 416 and ``(16, 32, (5, 5))`` -> 12,832.
    """
    rng = np.random.default_rng(seed)
    cases = [(1, 1, (3, 3)), (1, 16, (5, 5)), (16, 32, (5, 5))]
    while len(cases) < n_cases:
        KH, KW = (int(v) for v in rng.integers(1, 8, 2))
        cases.append((int(rng.integers(1, 65)), int(rng.integers(1, 129)), (KH, KW)))

    def reference(c_in, c_out, kernel_size):
        KH, KW = kernel_size
        return c_out * (c_in * KH * KW + 1)

    return _run("parameter count", fn, ("in_channels", "out_channels", "kernel_size"),
                sorted(cases, key=lambda c: reference(*c)), reference, _ints_differ)


@_never_raises
def check_same_padding(fn, n_cases=20, seed=0):
    """Check ``fn(kernel_size, dilation) -> int``, the padding that keeps the size ("same" padding).

    For an odd ``kernel_size`` K, stride 1 and dilation D, the padding P on each side with
    ``output_size(I, K, 1, P, D) == I`` for every I: ``P = D*(K - 1) / 2``, returned as an int.
    Odd K from 1 to 11 and D from 1 to 4 are tried, smallest first; (3, 1) gives 1, (3, 2) gives 2.
    """
    combos = [(k, d) for k in range(1, 12, 2) for d in range(1, 5)]  # 24, sorted
    rest = np.random.default_rng(seed).permutation(len(combos) - 3)[:max(n_cases - 3, 0)] + 3
    cases = combos[:3] + [combos[i] for i in sorted(rest.tolist())]  # (1, 1), (1, 2), (1, 3) first

    def reference(k, d):
        return d * (k - 1) // 2  # output_size(I, k, 1, reference(k, d), d) == I for every I

    return _run("same padding", fn, ("kernel_size", "dilation"), sorted(cases), reference, _ints_differ)


@_never_raises
def check_max_pool(fn, n_cases=20, seed=0):
    """Check ``fn(x, kernel_size, stride) -> (OH, OW)``: max pooling of one 2-D map.

    ``x`` has shape (H, W) (not always square) and holds negative numbers too; windows are
    ``kernel_size`` x ``kernel_size``, ``stride`` apart (overlapping when stride < kernel_size, with
    gaps when it is larger), no padding: ``OH = (H - kernel_size) // stride + 1`` (likewise OW) and
    ``out[i, j] = x[i*stride : i*stride + kernel_size, j*stride : j*stride + kernel_size].max()``,
    as ``convlib.pool2d(x[None, None], kernel_size, stride, "max")[0, 0]``.
    """
    rng = np.random.default_rng(seed)
    cases = [(np.arange(16, dtype=np.float64).reshape(4, 4), 2, 2)]
    while len(cases) < n_cases:
        H, W = (int(v) for v in rng.integers(2, 4 + len(cases) // 2, 2))
        k = int(rng.integers(1, min(H, W) + 1))
        x = rng.integers(-9, 10, (H, W)).astype(np.float64)
        if len(cases) % 4 == 1:
            x = -np.abs(x) - 1  # every value negative: a running maximum started at 0 is wrong
        cases.append((x, k, int(rng.integers(1, k + 2))))
    cases = cases[:1] + sorted(cases[1:], key=lambda c: c[0].size)
    return _run("max pool", fn, ("x", "kernel_size", "stride"), cases,
                lambda x, k, s: pool2d(x[None, None], k, s, "max")[0, 0], _arrays_differ)


@_never_raises
def check_pool_output_size(fn, n_cases=20, seed=0):
    """Check ``fn(size, kernel_size, stride) -> int``: how many pooling windows fit along one axis.

    No padding: ``(size - kernel_size) // stride + 1``. ``stride`` may be None, which means
    "equal to kernel_size" (non-overlapping windows, the default of :func:`convlib.pool2d` and of
    PyTorch). The answer must be an int. ``(24, 2, None)`` gives 12, ``(7, 3, 2)`` gives 3.
    """
    rng = np.random.default_rng(seed)
    cases = [(4, 2, None), (7, 3, 2), (24, 2, None)]
    while len(cases) < n_cases:
        size = int(rng.integers(2, 33))
        k = int(rng.integers(1, min(size, 6) + 1))
        cases.append((size, k, None if len(cases) % 3 == 0 else int(rng.integers(1, 5))))

    def reference(size, k, s):
        return output_size(size, k, k if s is None else s)

    return _run("pool output size", fn, ("size", "kernel_size", "stride"),
                sorted(cases, key=lambda c: (c[0], c[1])), reference, _ints_differ)
