"""Tests for convlib.filters: shapes, sums, responses under cross-correlation, argument checks."""
import numpy as np
import pytest
from scipy.signal import correlate2d

from convlib import filters
from convlib.filters import (
    KERNELS, box_blur, diagonal_edge, gabor, gaussian_blur, identity, kernel, laplacian,
    list_kernels, outline, sharpen, sobel_x, sobel_y,
)

FIXED_3X3 = ["identity", "sharpen", "laplacian", "sobel_x", "sobel_y", "emboss", "outline"]
EXPECTED_SUM = {"identity": 1, "sharpen": 1, "laplacian": 0, "sobel_x": 0, "sobel_y": 0,
                "emboss": 1, "outline": 0}


@pytest.mark.parametrize("name", FIXED_3X3)
def test_fixed_kernels_shape_dtype_sum(name):
    k = kernel(name)
    assert k.shape == (3, 3)
    assert k.dtype == np.float64
    assert k.sum() == pytest.approx(EXPECTED_SUM[name], abs=1e-12)


@pytest.mark.parametrize("size", [1, 3, 4, 7])
def test_box_blur(size):
    k = box_blur(size)
    assert k.shape == (size, size)
    assert k.sum() == pytest.approx(1.0)
    assert np.all(k == k[0, 0])


@pytest.mark.parametrize("size, sigma", [(5, 1.0), (3, 0.5), (6, 2.0), (1, 1.0)])
def test_gaussian_blur(size, sigma):
    k = gaussian_blur(size, sigma)
    assert k.shape == (size, size)
    assert k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k, k.T, atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)
    assert k.max() == k[(size - 1) // 2, (size - 1) // 2]  # peak at the centre


def test_identity_returns_the_image():
    img = np.random.default_rng(0).random((9, 11))
    np.testing.assert_allclose(correlate2d(img, identity(), mode="same"), img, atol=1e-15)


@pytest.mark.parametrize("name", ["sharpen", "box_blur", "gaussian_blur", "emboss"])
def test_kernels_summing_to_one_keep_a_flat_image(name):
    img = np.full((10, 10), 0.7)
    out = correlate2d(img, kernel(name), mode="valid")
    np.testing.assert_allclose(out, 0.7, atol=1e-12)


@pytest.mark.parametrize("name", ["laplacian", "sobel_x", "sobel_y", "outline", "diagonal_edge", "gabor"])
def test_zero_sum_kernels_ignore_a_flat_image(name):
    args = (7, 0.3, 2.0, 4.0) if name == "gabor" else ()
    out = correlate2d(np.full((12, 12), 0.7), kernel(name, *args), mode="valid")
    np.testing.assert_allclose(out, 0.0, atol=1e-12)


def test_sobel_x_values_and_sobel_y_is_transpose():
    np.testing.assert_array_equal(sobel_x(), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(sobel_y(), sobel_x().T)


def test_sobel_x_on_left_to_right_ramp_is_positive_constant():
    img = np.tile(np.arange(8.0), (6, 1))  # (6, 8), each row 0, 1, ..., 7
    out = correlate2d(img, sobel_x(), mode="valid")  # interior only
    # 1 * (1 + 2 + 1) per unit step, times a step of 2 across the kernel
    np.testing.assert_allclose(out, 8.0)
    out_y = correlate2d(img, sobel_y(), mode="valid")
    np.testing.assert_allclose(out_y, 0.0)


def test_sobel_y_on_top_to_bottom_ramp_is_positive():
    img = np.tile(np.arange(8.0)[:, None], (1, 6))
    np.testing.assert_allclose(correlate2d(img, sobel_y(), mode="valid"), 8.0)


def test_laplacian_and_outline_values():
    np.testing.assert_array_equal(laplacian(), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(outline(), [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(sharpen(), identity() - laplacian())


def test_diagonal_edge_3x3_matches_docstring():
    np.testing.assert_array_equal(diagonal_edge(3), [[-1, -1, 0], [-1, 0, 1], [0, 1, 1]])


def test_diagonal_edge_7_structure():
    k = diagonal_edge(7)
    assert k.shape == (7, 7)
    assert k.dtype == np.float64
    anti = np.fliplr(k).diagonal()  # k[i, 6 - i]
    np.testing.assert_array_equal(anti, 0.0)
    above = np.triu(np.ones((7, 7), bool), 1)[:, ::-1]  # i + j < 6
    below = np.tril(np.ones((7, 7), bool), -1)[:, ::-1]  # i + j > 6
    assert np.all(k[above] == -1) and above.sum() == 21
    assert np.all(k[below] == 1) and below.sum() == 21
    assert (k == -1).sum() == 21 and (k == 1).sum() == 21 and (k == 0).sum() == 7
    # the lecture's filter, except for its -1s on the anti-diagonal
    assert k[0, 0] == -1 and k[6, 6] == 1 and k[1, 6] == 1 and k[6, 1] == 1


def test_diagonal_edge_up_is_negation():
    for size in (2, 5, 7):
        np.testing.assert_array_equal(diagonal_edge(size, "up"), -diagonal_edge(size, "down"))


def test_diagonal_edge_prefers_its_own_pattern():
    k = diagonal_edge(7)
    own = (k > 0).astype(float)  # dark top-left, bright bottom-right
    candidates = {
        "own": own,
        "zeros": np.zeros((7, 7)),
        "ones": np.ones((7, 7)),
        "checkerboard": np.indices((7, 7)).sum(0) % 2.0,
        "vertical edge": np.tile((np.arange(7) >= 4).astype(float), (7, 1)),
        "horizontal edge": np.tile((np.arange(7) >= 4).astype(float)[:, None], (1, 7)),
        "reversed": (k < 0).astype(float),
        "main diagonal edge": np.tril(np.ones((7, 7)), -1),
    }
    scores = {name: float(np.sum(k * patch)) for name, patch in candidates.items()}
    assert max(scores, key=scores.get) == "own"
    assert scores["own"] == 21
    assert min(scores, key=scores.get) == "reversed"
    assert scores["reversed"] == -21
    up = diagonal_edge(7, "up")
    assert np.sum(up * candidates["reversed"]) == 21


@pytest.mark.parametrize("size", [5, 8, 11])
def test_gabor_zero_mean_and_shape(size):
    k = gabor(size, theta=0.4, sigma=2.0, wavelength=3.0, phase=0.3, gamma=0.7)
    assert k.shape == (size, size)
    assert abs(k.mean()) < 1e-15


def test_gabor_orientation_transposes():
    k0 = gabor(9, 0.0, 2.0, 4.0)
    k90 = gabor(9, np.pi / 2, 2.0, 4.0)
    np.testing.assert_allclose(k90, k0.T, atol=1e-12)
    # theta=0: vertical stripes, every row shares the same sign pattern
    assert np.all(np.sign(k0[:, 4]) > 0)


def test_gabor_theta_0_responds_to_vertical_bar_more_than_horizontal():
    k = gabor(9, 0.0, 2.0, 6.0)
    bar_v = np.zeros((9, 9))
    bar_v[:, 3:6] = 1.0
    assert np.sum(k * bar_v) > abs(np.sum(k * bar_v.T)) + 1.0


def test_gabor_symmetry_of_phase():
    even = gabor(9, 0.0, 2.0, 5.0, phase=0.0)
    odd = gabor(9, 0.0, 2.0, 5.0, phase=np.pi / 2)
    np.testing.assert_allclose(even, even[:, ::-1], atol=1e-12)
    np.testing.assert_allclose(odd, -odd[:, ::-1], atol=1e-12)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_fresh_arrays_not_shared(name):
    args = (5, 0.0, 1.5, 3.0) if name == "gabor" else ()
    first = kernel(name, *args)
    before = first.copy()
    first += 100.0
    np.testing.assert_array_equal(kernel(name, *args), before)


def test_module_functions_are_fresh_too():
    a = filters.sobel_y()
    a[0, 0] = 42.0
    assert filters.sobel_x()[0, 0] == -1 and filters.sobel_y()[0, 0] == -1


def test_list_kernels_and_mapping():
    names = list_kernels()
    assert names == sorted(names)
    assert set(names) == {"identity", "box_blur", "gaussian_blur", "sharpen", "laplacian", "sobel_x",
                          "sobel_y", "emboss", "outline", "diagonal_edge", "gabor"}
    assert KERNELS["sobel_x"] is sobel_x
    with pytest.raises(TypeError):
        KERNELS["mine"] = identity  # read-only mapping


def test_kernel_forwards_arguments():
    np.testing.assert_array_equal(kernel("box_blur", 4), box_blur(4))
    np.testing.assert_array_equal(kernel("diagonal_edge", size=5, direction="up"), diagonal_edge(5, "up"))


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"name must be one of \[.*'sobel_x'.*\], got 'sobl_x'"):
        kernel("sobl_x")
    with pytest.raises(ValueError) as info:
        kernel("nope")
    for name in list_kernels():
        assert name in str(info.value)


def test_kernel_name_must_be_str():
    with pytest.raises(TypeError, match="name"):
        kernel(3)


@pytest.mark.parametrize("size, exc", [(1, ValueError), (0, ValueError), (-3, ValueError),
                                       (2.0, TypeError), ("7", TypeError), (True, TypeError)])
def test_diagonal_edge_bad_size(size, exc):
    with pytest.raises(exc, match="size"):
        diagonal_edge(size)


@pytest.mark.parametrize("direction", ["left", "DOWN", None, 1])
def test_diagonal_edge_bad_direction_lists_options(direction):
    with pytest.raises(ValueError, match=r"direction.*'down'.*'up'"):
        diagonal_edge(7, direction)


@pytest.mark.parametrize("kwargs, exc, word", [
    ({"size": 0}, ValueError, "size"),
    ({"size": 3.5}, TypeError, "size"),
    ({"sigma": 0.0}, ValueError, "sigma"),
    ({"sigma": -1.0}, ValueError, "sigma"),
    ({"sigma": "1"}, TypeError, "sigma"),
    ({"wavelength": 0}, ValueError, "wavelength"),
    ({"theta": float("nan")}, ValueError, "theta"),
    ({"theta": None}, TypeError, "theta"),
    ({"phase": float("inf")}, ValueError, "phase"),
    ({"gamma": 0.0}, ValueError, "gamma"),
])
def test_gabor_bad_arguments(kwargs, exc, word):
    args = {"size": 7, "theta": 0.0, "sigma": 2.0, "wavelength": 4.0, **kwargs}
    with pytest.raises(exc, match=word):
        gabor(**args)


@pytest.mark.parametrize("func, kwargs, exc, word", [
    (box_blur, {"size": 0}, ValueError, "size"),
    (box_blur, {"size": 2.5}, TypeError, "size"),
    (gaussian_blur, {"size": 0}, ValueError, "size"),
    (gaussian_blur, {"sigma": 0.0}, ValueError, "sigma"),
    (gaussian_blur, {"sigma": "wide"}, TypeError, "sigma"),
])
def test_blur_bad_arguments(func, kwargs, exc, word):
    with pytest.raises(exc, match=word):
        func(**kwargs)


def test_diagonal_edge_rebuilds_the_lecture_filter():
    """The lecture's 7x7 filter: -1 on and above the anti-diagonal, +1 below it."""
    lecture = np.array([[-1 if i + j <= 6 else 1 for j in range(7)] for i in range(7)], dtype=float)
    np.testing.assert_array_equal(diagonal_edge(7, on_diagonal=-1), lecture)
    np.testing.assert_array_equal(diagonal_edge(7, "up", on_diagonal=-1), -lecture)
