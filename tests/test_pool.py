"""Pooling forward and backward: loop twins, PyTorch, finite differences, ties and overlaps."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlib import pool2d, pool2d_backward, pool2d_backward_naive, pool2d_naive
from convlib.gradcheck import numerical_gradient, rel_error

MODES = ["max", "mean", "sum"]
# (kernel_size, stride): non-overlapping, overlapping, rectangular, stride larger than kernel
GEOMETRIES = [(2, None), (3, 2), ((2, 3), (1, 2)), (2, 3), (3, 1)]


def test_pool2d_by_hand_on_a_4x4():
    x = np.array([[1, 2, 5, 6], [3, 4, 7, 8], [0, 0, 1, 1], [0, 9, 1, 3]], dtype=np.float64)[None, None]
    np.testing.assert_array_equal(pool2d(x, 2, mode="max")[0, 0], [[4, 8], [9, 3]])
    np.testing.assert_array_equal(pool2d(x, 2, mode="sum")[0, 0], [[10, 26], [9, 6]])
    np.testing.assert_array_equal(pool2d(x, 2, mode="mean")[0, 0], [[2.5, 6.5], [2.25, 1.5]])
    dx = pool2d_backward(np.ones((1, 1, 2, 2)), x, 2, mode="max")[0, 0]
    np.testing.assert_array_equal(dx, [[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k, s", GEOMETRIES)
def test_pool2d_matches_naive(mode, k, s):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 10))
    out = pool2d(x, k, s, mode)
    np.testing.assert_allclose(out, pool2d_naive(x, k, s, mode), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        pool2d_backward(dout, x, k, s, mode), pool2d_backward_naive(dout, x, k, s, mode), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k, s", GEOMETRIES)
def test_pool2d_gradients_by_finite_differences(mode, k, s):
    # Distinct values 0.1 apart keep max pooling away from ties (no derivative there) even with h = 1e-3.
    rng = np.random.default_rng(1)
    x = rng.permutation(2 * 2 * 8 * 9).reshape(2, 2, 8, 9).astype(np.float64) / 10
    out = pool2d(x, k, s, mode)
    dout = rng.standard_normal(out.shape)
    num = numerical_gradient(lambda v: pool2d(v, k, s, mode), x, dout, h=1e-3)  # piecewise linear
    assert rel_error(pool2d_backward(dout, x, k, s, mode), num) < 1e-7


@settings(max_examples=50, deadline=None)
@given(
    H=st.integers(1, 8), W=st.integers(1, 8), KH=st.integers(1, 4), KW=st.integers(1, 4),
    SH=st.integers(1, 4), SW=st.integers(1, 4), mode=st.sampled_from(MODES), ties=st.booleans(),
)
def test_pool2d_matches_naive_on_random_shapes(H, W, KH, KW, SH, SW, mode, ties):
    rng = np.random.default_rng(H * 10 + W)
    x = rng.integers(0, 3, size=(2, 2, H, W)).astype(np.float64) if ties else rng.standard_normal((2, 2, H, W))
    if KH > H or KW > W:
        with pytest.raises(ValueError, match="does not fit"):
            pool2d(x, (KH, KW), (SH, SW), mode)
        return
    out = pool2d(x, (KH, KW), (SH, SW), mode)
    np.testing.assert_allclose(out, pool2d_naive(x, (KH, KW), (SH, SW), mode), rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        pool2d_backward(dout, x, (KH, KW), (SH, SW), mode),
        pool2d_backward_naive(dout, x, (KH, KW), (SH, SW), mode),
        rtol=1e-12, atol=1e-12,
    )


def test_max_pool_ties_route_to_the_first_maximum():
    x = np.ones((1, 1, 2, 2))
    np.testing.assert_array_equal(pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0], [[1, 0], [0, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_pool2d_preserves_float_dtype(dtype, mode):
    x = np.random.default_rng(2).standard_normal((1, 2, 4, 4)).astype(dtype)
    out = pool2d(x, 2, mode=mode)
    assert out.dtype == dtype
    assert pool2d_backward(np.ones_like(out), x, 2, mode=mode).dtype == dtype


def test_mean_pool_of_integers_is_float():
    x = np.arange(16).reshape(1, 1, 4, 4)
    assert pool2d(x, 2, mode="max").dtype.kind == "i"
    np.testing.assert_array_equal(pool2d(x, 2, mode="mean")[0, 0], [[2.5, 4.5], [10.5, 12.5]])


@pytest.mark.parametrize("k, s", [(2, None), (3, 2), ((2, 3), (1, 2))])
def test_pool2d_matches_torch(k, s):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 10))
    stride = k if s is None else s
    for mode, op in (("max", F.max_pool2d), ("mean", F.avg_pool2d)):
        xt = torch.tensor(x, requires_grad=True)
        out_t = op(xt, k, stride)
        out = pool2d(x, k, s, mode)
        np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
        dout = rng.standard_normal(out.shape)
        out_t.backward(torch.tensor(dout))
        np.testing.assert_allclose(pool2d_backward(dout, x, k, s, mode), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_pool2d_backward_reuses_the_forward_cache(mode):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, size=(2, 3, 8, 8)).astype(np.float32)  # many ties
    cache = {}
    out = pool2d(x, 2, mode=mode, cache=cache)
    assert cache["out"] is out
    dout = rng.standard_normal(out.shape).astype(np.float32)
    np.testing.assert_array_equal(pool2d_backward(dout, x, 2, mode=mode, cache=cache),
                                  pool2d_backward_naive(dout, x, 2, mode=mode))
