"""Tests for convlib.gradcheck: finite differences against known derivatives, and rel_error."""
import numpy as np
import pytest

from convlib.gradcheck import check_gradient, numerical_gradient, rel_error

# Centred differences with h=1e-5 on order-one float64 values are accurate to about 1e-10.
TOL = 1e-8


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_square_gives_twice_x(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    grad = numerical_gradient(lambda v: v**2, x)
    assert grad.shape == x.shape
    assert grad.dtype == np.float64
    assert rel_error(grad, 2 * x) < TOL


def test_sin_gives_cos_with_dout():
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, size=(4, 5))
    dout = rng.standard_normal((4, 5))
    grad = numerical_gradient(np.sin, x, dout=dout)
    assert rel_error(grad, np.cos(x) * dout) < TOL


def test_matrix_product_with_random_dout():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 5))
    dout = rng.standard_normal((3, 5))
    # out = x @ w, so dL/dx = dout @ w.T and dL/dw = x.T @ dout
    assert rel_error(numerical_gradient(lambda v: v @ w, x, dout), dout @ w.T) < TOL
    assert rel_error(numerical_gradient(lambda v: x @ v, w, dout), x.T @ dout) < TOL


def test_scalar_valued_function():
    x = np.random.default_rng(3).standard_normal(6)
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    assert rel_error(grad, 3 * x**2) < TOL


def test_check_gradient_returns_rel_error():
    x = np.random.default_rng(4).standard_normal((2, 3))
    assert check_gradient(np.exp, x, np.exp(x)) < TOL
    assert check_gradient(np.exp, x, 2 * np.exp(x)) > 0.3


def test_float32_keeps_dtype():
    x = np.linspace(-1, 1, 7, dtype=np.float32)
    grad = numerical_gradient(lambda v: v**2, x, h=1e-2)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * x, atol=1e-3)


def test_x_restored_bit_exact():
    # Values whose +h/-h round trip would not return the same bits by arithmetic alone.
    x = np.array([0.1, 1e-300, 1e300, -7.3e-6, np.pi, 1 / 3]).reshape(2, 3)
    before = x.copy()
    numerical_gradient(lambda v: np.sin(v), x)
    assert x.tobytes() == before.tobytes()


def test_x_restored_when_f_raises():
    x = np.random.default_rng(5).standard_normal((3, 3))
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:  # fails midway through the perturbations of the first elements
            raise RuntimeError("boom")
        return v * 2

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert x.tobytes() == before.tobytes()


def test_f_sees_the_perturbation():
    x = np.zeros(3)
    seen = []
    numerical_gradient(lambda v: seen.append(v.copy()) or v, x, h=0.5)
    # first call finds the output shape, then +h / -h for each element in turn
    np.testing.assert_array_equal(seen[1], [0.5, 0, 0])
    np.testing.assert_array_equal(seen[2], [-0.5, 0, 0])
    np.testing.assert_array_equal(seen[-1], [0, 0, -0.5])


def test_integer_x_is_type_error():
    with pytest.raises(TypeError, match="x"):
        numerical_gradient(lambda v: v, np.arange(4))


def test_non_array_x_is_type_error():
    with pytest.raises(TypeError, match="x"):
        numerical_gradient(lambda v: v, [1.0, 2.0])


def test_read_only_x_is_value_error():
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x"):
        numerical_gradient(lambda v: v, x)


def test_dout_shape_mismatch_names_dout():
    with pytest.raises(ValueError, match=r"dout.*\(3,\).*\(4,\)"):
        numerical_gradient(lambda v: v, np.ones(3), dout=np.ones(4))


@pytest.mark.parametrize("h", [0.0, -1e-5, float("nan")])
def test_bad_h_is_value_error(h):
    with pytest.raises(ValueError, match="h"):
        numerical_gradient(lambda v: v, np.ones(3), h=h)


@pytest.mark.parametrize("h", ["1e-5", None, True])
def test_non_number_h_is_type_error(h):
    with pytest.raises(TypeError, match="h"):
        numerical_gradient(lambda v: v, np.ones(3), h=h)


def test_non_callable_f_is_type_error():
    with pytest.raises(TypeError, match="f"):
        numerical_gradient(3, np.ones(3))


def test_rel_error_equal_arrays_is_zero():
    a = np.random.default_rng(6).standard_normal((4, 4))
    assert rel_error(a, a.copy()) == 0.0
    assert isinstance(rel_error(a, a), float)


def test_rel_error_zeros_is_zero():
    assert rel_error(np.zeros(5), np.zeros(5)) == 0.0


def test_rel_error_is_symmetric():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 3, 3))
    assert rel_error(a, b) == rel_error(b, a)


def test_rel_error_known_value():
    # |1 - 3| / (1 + 3) = 0.5 is the largest; |2 - 2| / 4 = 0
    assert rel_error([1.0, 2.0], [3.0, 2.0]) == pytest.approx(0.5)
    # near zero the 1e-8 floor takes over: |1e-10 - 0| / 1e-8 = 0.01
    assert rel_error([1e-10], [0.0]) == pytest.approx(0.01)


def test_rel_error_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        rel_error(np.ones((2, 3)), np.ones((3, 2)))


def test_check_gradient_shape_mismatch():
    with pytest.raises(ValueError, match="analytic"):
        check_gradient(np.sin, np.ones(3), np.ones(4))
