"""Bad input gets a ValueError or TypeError that names the argument and shows the value."""
import numpy as np
import pytest

import convlib as cl

X = np.zeros((2, 3, 8, 8))
W = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        # wrong number of dimensions
        (lambda: cl.conv2d(np.zeros((3, 8, 8)), W), ValueError, r"x must have shape \(N, C, H, W\).*\(3, 8, 8\)"),
        (lambda: cl.conv2d(X, np.zeros((3, 3, 3))), ValueError, r"w must have shape \(F, C, KH, KW\).*\(3, 3, 3\)"),
        (lambda: cl.pool2d(np.zeros((8, 8)), 2), ValueError, r"x must have shape.*\(8, 8\)"),
        (lambda: cl.sliding_windows(np.zeros((8, 8)), 2), ValueError, r"x must have shape"),
        (lambda: cl.conv1d(np.zeros((2, 5)), np.ones(3)), ValueError, r"x must have shape \(N, C, L\) or \(L,\)"),
        (lambda: cl.make_patches(np.zeros(5), 2), ValueError, r"images must have shape"),
        # channel and bias mismatches
        (lambda: cl.conv2d(X, np.zeros((4, 2, 3, 3))), ValueError, r"w has 2 input channels.*x has 3"),
        (lambda: cl.conv2d(X, W, np.zeros(3)), ValueError, r"b must have shape \(F,\) = \(4,\).*\(3,\)"),
        (lambda: cl.conv1d(np.zeros((1, 2, 9)), np.zeros((1, 3, 3))), ValueError, r"w has 3 input channels"),
        # kernel larger than the padded input
        (lambda: cl.conv2d(X, np.zeros((1, 3, 9, 3))), ValueError, r"kernel_size=\(9, 3\) does not fit.*8x8"),
        (lambda: cl.conv2d(X, np.zeros((1, 3, 11, 3)), padding=1), ValueError, r"does not fit.*padding=1"),
        (lambda: cl.pool2d(X, 9), ValueError, r"does not fit"),
        (lambda: cl.make_patches(np.zeros((1, 5, 5)), 6), ValueError, r"does not fit"),
        # stride, padding, dilation
        (lambda: cl.conv2d(X, W, stride=0), ValueError, r"stride must be >= 1, got 0"),
        (lambda: cl.conv2d(X, W, stride=(1, -2)), ValueError, r"stride\[1\] must be >= 1, got -2"),
        (lambda: cl.conv2d(X, W, padding=-1), ValueError, r"padding must be >= 0, got -1"),
        (lambda: cl.conv2d(X, W, dilation=0), ValueError, r"dilation must be >= 1, got 0"),
        (lambda: cl.conv2d(X, W, stride=(1, 2, 3)), ValueError, r"stride must be an int or a pair"),
        (lambda: cl.pool2d(X, 2, stride=0), ValueError, r"stride must be >= 1, got 0"),
        (lambda: cl.conv1d(np.ones(5), np.ones(3), stride=-1), ValueError, r"stride must be >= 1, got -1"),
        (lambda: cl.output_size(28, 0), ValueError, r"kernel_size must be >= 1, got 0"),
        # non-integer sizes
        (lambda: cl.conv2d(X, W, stride=1.5), TypeError, r"stride must be an integer, got 1.5"),
        (lambda: cl.conv2d(X, W, padding="1"), TypeError, r"padding must be an integer, got '1'"),
        (lambda: cl.pool2d(X, 2.0), TypeError, r"kernel_size must be an integer, got 2.0"),
        (lambda: cl.output_size(28.0, 3), TypeError, r"size must be an integer, got 28.0"),
        (lambda: cl.make_patches(np.zeros((1, 8, 8)), True), TypeError, r"patch_size must be an integer, got True"),
        # wrong mode
        (lambda: cl.pool2d(X, 2, mode="median"), ValueError, r"mode must be one of \('max', 'mean', 'sum'\), got 'median'"),
        (lambda: cl.pool2d_backward(np.zeros((2, 3, 4, 4)), X, 2, mode=None), ValueError, r"mode must be one of"),
        # non-numeric dtypes
        (lambda: cl.conv2d(X.astype(str), W), TypeError, r"x must have a real numeric dtype, got dtype <U"),
        (lambda: cl.conv2d(X, W.astype(complex)), TypeError, r"w must have a real numeric dtype, got dtype complex128"),
        (lambda: cl.pool2d(X.astype(object), 2), TypeError, r"x must have a real numeric dtype, got dtype object"),
        (lambda: cl.conv1d([1, 2, "a"], [1, 1]), TypeError, r"x must have a real numeric dtype"),
        # upstream gradients of the wrong shape
        (lambda: cl.conv2d_backward(np.zeros((2, 4, 5, 5)), X, W), ValueError, r"dout must have the output's shape \(2, 4, 6, 6\), got \(2, 4, 5, 5\)"),
        (lambda: cl.conv2d_backward_naive(np.zeros((2, 4, 5, 5)), X, W), ValueError, r"dout must have"),
        (lambda: cl.conv1d_backward(np.ones(4), np.ones(5), np.ones(3)), ValueError, r"dout must have the output's shape \(3,\)"),
        (lambda: cl.pool2d_backward(np.zeros((2, 3, 3, 3)), X, 2), ValueError, r"dout must have the pooled output's shape \(2, 3, 4, 4\)"),
        (lambda: cl.pool2d_backward_naive(np.zeros((2, 3, 3, 3)), X, 2), ValueError, r"dout must have"),
        # padding argument of pad2d, col2im's shape argument
        (lambda: cl.pad2d(np.zeros(3), 1), ValueError, r"x must have at least 2 dimensions"),
        (lambda: cl.pad2d(X, (1, 1.5)), TypeError, r"padding\[1\] must be an integer, got 1.5"),
        (lambda: cl.col2im(np.zeros((36, 27)), (2, 3, 8), 3), ValueError, r"x_shape must be \(N, C, H, W\)"),
    ],
)
def test_bad_input_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize(
    "fn",
    [cl.conv2d, cl.conv2d_naive],
)
def test_naive_twins_validate_like_the_fast_versions(fn):
    with pytest.raises(ValueError, match="w has 2 input channels"):
        fn(X, np.zeros((4, 2, 3, 3)))
    with pytest.raises(TypeError, match="stride must be an integer"):
        fn(X, W, stride=0.5)


def test_no_numpy_broadcasting_error_leaks_out():
    """Every mismatch we can think of is caught before NumPy sees it."""
    rng = np.random.default_rng(0)
    for _ in range(50):
        x = np.zeros(tuple(rng.integers(1, 6, size=rng.integers(1, 6))))
        w = np.zeros(tuple(rng.integers(1, 6, size=rng.integers(1, 6))))
        try:
            cl.conv2d(x, w, padding=int(rng.integers(0, 2)))
        except (ValueError, TypeError) as exc:
            assert "broadcast" not in str(exc) and "operands could not" not in str(exc)
