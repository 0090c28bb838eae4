"""conv1d / conv2d forward and backward: against the loop twins, SciPy, PyTorch and finite differences.

conv2d builds its window columns in one of two layouts, chosen by shape (channels-first for grey
first layers, channels-last for deeper ones). The ``layout`` fixture and ``forced_layout`` pin
each layout in turn, so every correctness test below runs through both code paths.
"""
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from convlib import (
    conv1d,
    conv1d_backward,
    conv1d_backward_naive,
    conv1d_naive,
    conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_naive,
    output_size,
)
from convlib import conv as conv_module
from convlib.gradcheck import numerical_gradient, rel_error

STEP = 1e-3  # finite-difference step for functions linear in the perturbed argument (see below)

# (N, C, H, W, F, KH, KW, stride, padding, dilation)
CASES = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0, 1),
    (2, 3, 8, 8, 4, 3, 3, 1, 1, 1),
    (2, 2, 9, 7, 3, 3, 2, 2, 1, 1),
    (1, 3, 10, 11, 2, 5, 5, (2, 3), (2, 1), 1),
    (3, 2, 9, 9, 2, 3, 3, 1, 0, 2),
    (2, 1, 12, 10, 2, 2, 3, (1, 2), (0, 2), (2, 1)),
    (1, 2, 6, 6, 3, 1, 1, 2, 0, 1),
    (2, 2, 4, 4, 2, 4, 4, 1, 0, 1),
]


@contextmanager
def forced_layout(last):
    """Make conv2d and conv2d_backward use channels-last columns (True) or channels-first (False)."""
    with mock.patch.object(conv_module, "_channels_last", lambda *args: last):
        yield


@pytest.fixture(params=[False, True], ids=["channels_first", "channels_last"])
def layout(request):
    with forced_layout(request.param):
        yield request.param


def _random_case(case, dtype=np.float64, seed=0):
    N, C, H, W, F, KH, KW, s, p, d = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, KH, KW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b, s, p, d


@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_naive(case, layout):
    x, w, b, s, p, d = _random_case(case)
    out = conv2d(x, w, b, s, p, d)
    np.testing.assert_allclose(out, conv2d_naive(x, w, b, s, p, d), rtol=1e-12, atol=1e-12)
    N, C, H, W, F, KH, KW = case[:7]
    sp = lambda v: (v, v) if np.isscalar(v) else v  # noqa: E731
    (SH, SW), (PH, PW), (DH, DW) = sp(s), sp(p), sp(d)
    assert out.shape == (N, F, output_size(H, KH, SH, PH, DH), output_size(W, KW, SW, PW, DW))


@pytest.mark.parametrize("case", CASES)
def test_conv2d_backward_matches_naive(case, layout):
    x, w, _, s, p, d = _random_case(case)
    dout = np.random.default_rng(1).standard_normal(conv2d(x, w, None, s, p, d).shape)
    for fast, slow in zip(conv2d_backward(dout, x, w, s, p, d), conv2d_backward_naive(dout, x, w, s, p, d)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_gradients_by_finite_differences(case, layout):
    # The convolution is linear in each argument, so centred differences have no truncation error
    # and a larger step only shrinks the round-off: h = 1e-3 keeps the bound at 1e-7 meaningful.
    x, w, b, s, p, d = _random_case(case, seed=2)
    dout = np.random.default_rng(3).standard_normal(conv2d(x, w, b, s, p, d).shape)
    dx, dw, db = conv2d_backward(dout, x, w, s, p, d)
    assert rel_error(dx, numerical_gradient(lambda v: conv2d(v, w, b, s, p, d), x, dout, h=STEP)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: conv2d(x, v, b, s, p, d), w, dout, h=STEP)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: conv2d(x, w, v, s, p, d), b, dout, h=STEP)) < 1e-7


@settings(max_examples=120, deadline=None)
@given(
    N=st.integers(1, 2), C=st.integers(1, 3), H=st.integers(1, 9), W=st.integers(1, 9), F=st.integers(1, 3),
    KH=st.integers(1, 4), KW=st.integers(1, 4), SH=st.integers(1, 3), SW=st.integers(1, 3),
    PH=st.integers(0, 2), PW=st.integers(0, 2), DH=st.integers(1, 3), DW=st.integers(1, 3), last=st.booleans(),
)
def test_conv2d_forward_backward_match_naive_on_random_shapes(N, C, H, W, F, KH, KW, SH, SW, PH, PW, DH, DW, last):
    with forced_layout(last):
        _check_random_shape(N, C, H, W, F, KH, KW, SH, SW, PH, PW, DH, DW)


def _check_random_shape(N, C, H, W, F, KH, KW, SH, SW, PH, PW, DH, DW):
    if DH * (KH - 1) + 1 > H + 2 * PH or DW * (KW - 1) + 1 > W + 2 * PW:
        with pytest.raises(ValueError, match="does not fit"):
            conv2d(np.zeros((N, C, H, W)), np.zeros((F, C, KH, KW)), None, (SH, SW), (PH, PW), (DH, DW))
        return
    case = (N, C, H, W, F, KH, KW, (SH, SW), (PH, PW), (DH, DW))
    x, w, b, s, p, d = _random_case(case, seed=N + 7 * H + 11 * W)
    out = conv2d(x, w, b, s, p, d)
    np.testing.assert_allclose(out, conv2d_naive(x, w, b, s, p, d), rtol=1e-11, atol=1e-11)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    for fast, slow in zip(conv2d_backward(dout, x, w, s, p, d), conv2d_backward_naive(dout, x, w, s, p, d)):
        np.testing.assert_allclose(fast, slow, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("shape, kshape", [((9, 9), (3, 3)), ((12, 7), (5, 2)), ((6, 8), (1, 4))])
def test_conv2d_single_channel_matches_scipy_correlate(shape, kshape):
    rng = np.random.default_rng(4)
    image, kernel = rng.standard_normal(shape), rng.standard_normal(kshape)
    out = conv2d(image[None, None], kernel[None, None])[0, 0]
    np.testing.assert_allclose(out, signal.correlate(image, kernel, mode="valid"), rtol=1e-12, atol=1e-12)
    full = conv2d(image[None, None], kernel[None, None], padding=(kshape[0] - 1, kshape[1] - 1))[0, 0]
    np.testing.assert_allclose(full, signal.correlate(image, kernel, mode="full"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_preserves_dtype(dtype, layout):
    x, w, b, s, p, d = _random_case(CASES[1], dtype=dtype)
    out = conv2d(x, w, b, s, p, d)
    assert out.dtype == dtype
    grads = conv2d_backward(np.ones_like(out), x, w, s, p, d)
    assert [g.dtype for g in grads] == [dtype] * 3
    assert out.flags.c_contiguous and all(g.flags.c_contiguous for g in grads)


@pytest.mark.parametrize("case", [CASES[1], CASES[3]])
def test_conv2d_accepts_strided_and_fortran_ordered_arrays(case, layout):
    # Views with unusual strides (every other image, a Fortran-ordered copy) must give the same
    # numbers as contiguous arrays: the column copies read through any strides.
    x, w, b, s, p, d = _random_case(case, seed=14)
    wide = np.repeat(x, 2, axis=0)[::2]  # a view whose batch stride is twice the image size
    wf, xf = np.asfortranarray(w), np.asfortranarray(x)
    out = conv2d(x, w, b, s, p, d)
    np.testing.assert_allclose(conv2d(wide, wf, b, s, p, d), out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv2d(xf, w, b, s, p, d), out, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(15).standard_normal(out.shape)
    expected = conv2d_backward(dout, x, w, s, p, d)
    for strided, plain in zip(conv2d_backward(np.asfortranarray(dout), wide, wf, s, p, d), expected):
        np.testing.assert_allclose(strided, plain, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("C, KW, OW, stride, dilation, last", [
    (1, 5, 24, (1, 1), (1, 1), False),  # the course CNN's grey first layer: rows of 24 pixels
    (16, 5, 8, (1, 1), (1, 1), True),   # its second layer: runs of 5*16 values channels-last
    (32, 3, 12, (1, 1), (1, 1), True),
    (3, 3, 254, (1, 1), (1, 1), False),  # a colour photo in the kernel editor
    (4, 3, 10, (2, 2), (1, 1), True),   # stride 2 breaks the rows of the channels-first copy
])
def test_conv2d_picks_the_layout_with_the_longer_copies(C, KW, OW, stride, dilation, last):
    assert conv_module._channels_last(C, KW, OW, stride, dilation) is last


def test_conv2d_integer_inputs_stay_exact(layout):
    x = np.arange(16).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.int64)
    out = conv2d(x, w)
    assert out.dtype.kind == "i"
    np.testing.assert_array_equal(out[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])


# --- 1-D, with the lecture's worked numbers ------------------------------------------------------


def test_conv1d_lecture_numbers():
    x = np.array([1.0, 2, 3, 4, 5])
    w = np.array([1.0, 1, 1])
    out = conv1d(x, w, padding=1)
    np.testing.assert_array_equal(out, [3, 6, 9, 12, 9])
    np.testing.assert_array_equal(conv1d_naive(x, w, padding=1), out)
    dx, dw, db = conv1d_backward(np.ones(5), x, w, padding=1)
    np.testing.assert_array_equal(dx, [2, 3, 3, 3, 2])
    np.testing.assert_array_equal(dw, [10, 15, 14])
    assert db == 5
    for a, b in zip(conv1d_backward_naive(np.ones(5), x, w, padding=1), (dx, dw, db)):
        np.testing.assert_array_equal(a, b)


def test_conv1d_lecture_gradients_by_finite_differences():
    x = np.array([1.0, 2, 3, 4, 5])
    w = np.array([1.0, 1, 1])
    np.testing.assert_allclose(numerical_gradient(lambda v: conv1d(v, w, padding=1), x), [2, 3, 3, 3, 2], rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda v: conv1d(x, v, padding=1), w), [10, 15, 14], rtol=1e-8)


@pytest.mark.parametrize("N, C, L, F, K, s, p, d", [(2, 3, 10, 4, 3, 1, 1, 1), (1, 2, 9, 2, 2, 2, 0, 2), (3, 1, 7, 3, 5, 3, 2, 1)])
def test_conv1d_matches_naive_torch_and_finite_differences(N, C, L, F, K, s, p, d):
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((N, C, L)), rng.standard_normal((F, C, K)), rng.standard_normal(F)
    out = conv1d(x, w, b, s, p, d)
    np.testing.assert_allclose(out, conv1d_naive(x, w, b, s, p, d), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    grads = conv1d_backward(dout, x, w, s, p, d)
    for fast, slow in zip(grads, conv1d_backward_naive(dout, x, w, s, p, d)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert rel_error(grads[0], numerical_gradient(lambda v: conv1d(v, w, b, s, p, d), x, dout, h=STEP)) < 1e-7
    assert rel_error(grads[1], numerical_gradient(lambda v: conv1d(x, v, b, s, p, d), w, dout, h=STEP)) < 1e-7


def test_conv1d_shapes_for_single_signals_and_filters():
    x1, w1 = np.arange(8.0), np.array([1.0, -1.0])
    assert conv1d(x1, w1).shape == (7,)
    assert conv1d(x1, np.ones((3, 1, 2))).shape == (3, 7)
    assert conv1d(np.ones((4, 1, 8)), w1).shape == (4, 7)
    assert conv1d(np.ones((4, 1, 8)), np.ones((3, 1, 2))).shape == (4, 3, 7)
    dx, dw, db = conv1d_backward(np.ones(7), x1, w1)
    assert dx.shape == (8,) and dw.shape == (2,) and np.ndim(db) == 0


# --- PyTorch as the oracle ----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_conv2d_forward_and_gradients_match_torch(case, layout):
    torch = pytest.importorskip("torch")
    x, w, b, s, p, d = _random_case(case, seed=8)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
    out = conv2d(x, w, b, s, p, d)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(9).standard_normal(out.shape)
    out_t.backward(torch.tensor(dout))
    for ours, theirs in zip(conv2d_backward(dout, x, w, s, p, d), (xt.grad, wt.grad, bt.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N, C, L, F, K, s, p, d", [(2, 3, 10, 4, 3, 1, 1, 1), (1, 2, 9, 2, 2, 2, 0, 2)])
def test_conv1d_matches_torch(N, C, L, F, K, s, p, d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((N, C, L)), rng.standard_normal((F, C, K)), rng.standard_normal(F)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out_t = torch.nn.functional.conv1d(xt, wt, bt, stride=s, padding=p, dilation=d)
    np.testing.assert_allclose(conv1d(x, w, b, s, p, d), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(dout))
    for ours, theirs in zip(conv1d_backward(dout, x, w, s, p, d), (xt.grad, wt.grad, bt.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_float32_close_to_torch_on_a_course_layer():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((8, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w)).numpy()
    np.testing.assert_allclose(conv2d(x, w), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES[:4])
def test_conv2d_backward_with_the_forward_cache_and_without_dx(case, layout):
    x, w, b, s, p, d = _random_case(case, seed=12)
    cache = {}
    out = conv2d(x, w, b, s, p, d, cache=cache)
    assert cache["cols"].shape[0] in (x.shape[0], out.shape[0] * out.shape[2] * out.shape[3])
    dout = np.random.default_rng(13).standard_normal(out.shape)
    plain = conv2d_backward(dout, x, w, s, p, d)
    cached = conv2d_backward(dout, x, w, s, p, d, cache=cache)
    for a, c in zip(plain, cached):
        np.testing.assert_array_equal(a, c)
    dx, dw, db = conv2d_backward(dout, x, w, s, p, d, cache=cache, need_dx=False)
    assert dx is None
    np.testing.assert_array_equal(dw, plain[1])
    np.testing.assert_array_equal(db, plain[2])
    # A cache left from another input shape is ignored, not trusted.
    other = conv2d_backward(dout[:1], x[:1], w, s, p, d, cache=cache)
    np.testing.assert_allclose(other[1], conv2d_backward_naive(dout[:1], x[:1], w, s, p, d)[1], rtol=1e-12, atol=1e-12)
