"""Windows, padding, patches and im2col: views where promised, the lecture's numbers, adjointness."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from convlib import col2im, im2col, make_patches, output_size, pad2d, sliding_windows


@pytest.mark.parametrize(
    "size, k, s, p, d, expected",
    [
        (28, 7, 7, 0, 1, 4),
        (28, 7, 2, 0, 1, 11),
        (28, 10, 1, 0, 1, 19),
        (5, 3, 1, 1, 1, 5),
        (32, 5, 1, 2, 1, 32),
        (7, 3, 2, 1, 1, 4),
        (10, 3, 1, 0, 2, 6),
        (5, 5, 1, 0, 1, 1),
    ],
)
def test_output_size_table(size, k, s, p, d, expected):
    assert output_size(size, k, s, p, d) == expected


def test_output_size_rejects_a_window_that_does_not_fit():
    with pytest.raises(ValueError, match="kernel_size=6"):
        output_size(5, 6)
    with pytest.raises(ValueError, match="dilation=3"):
        output_size(5, 3, dilation=3)
    assert output_size(5, 6, padding=1) == 2


def test_lecture_windows_on_arange_24():
    a = np.arange(24).reshape(2, 3, 4)
    s = a.itemsize
    win = sliding_windows(a[:, None], 2)[:, 0]  # (2, OH, OW, 2, 2), channel axis dropped
    assert win.shape == (2, 2, 3, 2, 2)
    assert win.strides == (12 * s, 4 * s, s, 4 * s, s)
    np.testing.assert_array_equal(win[1, 0, 1], [[13, 14], [17, 18]])


@pytest.mark.parametrize("k, s, d", [(2, 1, 1), (3, 2, 1), ((2, 3), (1, 2), 1), (2, 1, 2), ((3, 2), (2, 3), (1, 2))])
def test_sliding_windows_equal_numpy_sliding_window_view(k, s, d):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 10))
    KH, KW = (k, k) if np.isscalar(k) else k
    SH, SW = (s, s) if np.isscalar(s) else s
    DH, DW = (d, d) if np.isscalar(d) else d
    ref = sliding_window_view(x, (DH * (KH - 1) + 1, DW * (KW - 1) + 1), axis=(2, 3))
    ref = ref[:, :, ::SH, ::SW, ::DH, ::DW]
    win = sliding_windows(x, k, s, d)
    np.testing.assert_array_equal(win, ref)
    assert np.shares_memory(win, x)
    assert not win.flags.writeable


def test_sliding_windows_is_a_view_that_follows_the_image():
    x = np.zeros((1, 1, 6, 6))
    win = sliding_windows(x, 3)
    x[0, 0, 2, 2] = 5.0
    # (2, 2) sits inside every window whose top-left corner is within 2 pixels above-left of it.
    assert win[0, 0, 0, 0, 2, 2] == 5.0 and win[0, 0, 2, 2, 0, 0] == 5.0
    with pytest.raises(ValueError):
        win[0, 0, 0, 0, 0, 0] = 1.0


def test_make_patches_on_a_digit_like_the_lecture():
    image = np.arange(28 * 28, dtype=np.float64).reshape(1, 28, 28)
    assert make_patches(image, 7, 7).shape == (1, 4, 4, 7, 7)  # 16 non-overlapping patches
    patches = make_patches(image, 7, 2)
    assert patches.shape == (1, 11, 11, 7, 7)  # 121 patches: the ragged edge is left out
    np.testing.assert_array_equal(patches[0, 3, 5], image[0, 6:13, 10:17])
    assert np.shares_memory(patches, image)
    image[0, 6, 10] = -1.0
    assert patches[0, 3, 5, 0, 0] == -1.0
    flat = image.reshape(1, 784)
    np.testing.assert_array_equal(make_patches(flat, 7, 2), patches)


def test_make_patches_rejects_non_square_flat_images():
    with pytest.raises(ValueError, match="perfect square"):
        make_patches(np.zeros((2, 28)), 3)


def test_pad2d():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    p = pad2d(x, (1, 2))
    assert p.shape == (1, 1, 4, 7) and p.dtype == np.float32
    np.testing.assert_array_equal(p[0, 0, 1:3, 2:5], x[0, 0])
    assert p.sum() == x.sum()
    np.testing.assert_array_equal(pad2d(x, 0), x)


def test_im2col_layout_and_values():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 5))
    w = rng.standard_normal((4, 3, 3, 2))
    cols = im2col(x, (3, 2), stride=(2, 1), padding=1)
    OH, OW = output_size(6, 3, 2, 1), output_size(5, 2, 1, 1)
    assert cols.shape == (2 * OH * OW, 3 * 3 * 2)
    out = (cols @ w.reshape(4, -1).T).reshape(2, OH, OW, 4).transpose(0, 3, 1, 2)
    from convlib import conv2d_naive

    np.testing.assert_allclose(out, conv2d_naive(x, w, stride=(2, 1), padding=1), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    H=st.integers(3, 9), W=st.integers(3, 9), C=st.integers(1, 3),
    KH=st.integers(1, 3), KW=st.integers(1, 3), S=st.integers(1, 3), P=st.integers(0, 2), D=st.integers(1, 2),
)
def test_col2im_is_the_adjoint_of_im2col(H, W, C, KH, KW, S, P, D):
    """<im2col(x), y> == <x, col2im(y)> for every x and y: col2im sums overlaps exactly."""
    if D * (KH - 1) + 1 > H + 2 * P or D * (KW - 1) + 1 > W + 2 * P:
        return
    rng = np.random.default_rng(H * 1000 + W * 100 + KH * 10 + KW)
    x = rng.standard_normal((2, C, H, W))
    cols = im2col(x, (KH, KW), S, P, D)
    y = rng.standard_normal(cols.shape)
    back = col2im(y, x.shape, (KH, KW), S, P, D)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * y), np.sum(x * back), rtol=1e-10)


def test_col2im_counts_overlaps():
    ones = np.ones((1, 1, 4, 4))
    cols = im2col(ones, 3)
    counts = col2im(np.ones_like(cols), ones.shape, 3)
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_col2im_rejects_a_wrong_cols_shape():
    with pytest.raises(ValueError, match="cols must have shape"):
        col2im(np.zeros((5, 9)), (1, 1, 4, 4), 3)
