"""Tests for convlib.plot: what each function draws, read back from the returned Axes/Figure."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle

from convlib import make_patches, output_size
from convlib.plot import (
    _format_seconds, load_photo, mosaic, plot_timings, show_grid, show_image, show_kernel, show_windows,
)

RNG = np.random.default_rng(0)


def _visible(fig):
    return [ax for ax in fig.axes if ax.axison]


# ---------------------------------------------------------------------------------------------
# show_image


@pytest.mark.parametrize("shape", [(5, 6), (1, 5, 6)])
def test_show_image_grey_shapes(shape):
    img = RNG.random(shape)
    ax = show_image(img, title="digit")
    data = ax.images[0].get_array()
    assert data.shape == (5, 6)
    np.testing.assert_allclose(data, img.reshape(5, 6), rtol=0, atol=0)
    assert ax.get_title() == "digit"
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []


@pytest.mark.parametrize("shape, to_hwc", [((3, 5, 6), lambda x: x.transpose(1, 2, 0)), ((5, 6, 3), lambda x: x)])
def test_show_image_colour_shapes(shape, to_hwc):
    img = RNG.random(shape)
    ax = show_image(img)
    np.testing.assert_allclose(ax.images[0].get_array(), to_hwc(img), atol=1e-12)


def test_show_image_colour_outside_unit_range_is_stretched():
    img = np.stack([np.full((2, 2), v) for v in (-1.0, 0.0, 1.0)])  # (3, 2, 2)
    rgb = show_image(img).images[0].get_array()
    np.testing.assert_allclose(rgb[0, 0], [0.0, 0.5, 1.0])
    rgb = show_image(img, vmin=0, vmax=1).images[0].get_array()
    np.testing.assert_allclose(rgb[0, 0], [0.0, 0.0, 1.0])


def test_show_image_negative_reverses_the_colour_map():
    img = RNG.random((4, 4))
    assert show_image(img).images[0].get_cmap().name == "gray"
    assert show_image(img, negative=True).images[0].get_cmap().name == "gray_r"
    colour = show_image(np.ones((3, 2, 2)), negative=True).images[0].get_array()
    np.testing.assert_allclose(colour, 0.0)


def test_show_image_vmin_vmax_and_default_autoscale():
    img = np.full((3, 3), 0.2)
    img[0, 0] = 0.4
    assert show_image(img).images[0].get_clim() == pytest.approx((0.2, 0.4))
    assert show_image(img, vmin=0, vmax=1).images[0].get_clim() == (0, 1)


def test_show_image_uses_given_axes_and_adds_colorbar():
    fig, (a, b) = plt.subplots(1, 2)
    assert show_image(np.eye(3), ax=b, colorbar=True) is b
    assert len(fig.axes) == 3  # two panels and a colour bar


@pytest.mark.parametrize("shape", [(5,), (2, 4, 4), (4, 4, 4), (1, 1, 4, 4), (4, 4, 2)])
def test_show_image_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="img must have shape"):
        show_image(np.zeros(shape))


def test_show_image_rejects_non_numeric():
    with pytest.raises(TypeError, match="img"):
        show_image(np.array([["a", "b"]]))


# ---------------------------------------------------------------------------------------------
# show_grid and mosaic


def test_show_grid_batch_of_images():
    imgs = RNG.random((5, 4, 4))
    fig = show_grid(imgs, ncols=3, titles=list("abcde"), suptitle="five")
    visible = _visible(fig)
    assert len(fig.axes) == 6 and len(visible) == 5
    assert [ax.get_title() for ax in visible] == list("abcde")
    assert fig.get_suptitle() == "five"
    assert visible[0].get_subplotspec().get_geometry()[:2] == (2, 3)


def test_show_grid_accepts_n1hw():
    fig = show_grid(RNG.random((4, 1, 6, 6)))
    assert len(_visible(fig)) == 4
    assert fig.axes[0].images[0].get_array().shape == (6, 6)


def test_show_grid_patch_grid_keeps_its_layout():
    digit = RNG.random((28, 28))
    patches = make_patches(digit[None], 7, 7)[0]  # (4, 4, 7, 7)
    fig = show_grid(patches)
    assert len(fig.axes) == 16
    assert fig.axes[0].get_subplotspec().get_geometry()[:2] == (4, 4)
    # row-major: axes 5 is patch (1, 1)
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), digit[7:14, 7:14])


def test_show_grid_shared_scale_uses_global_min_max():
    imgs = np.stack([np.zeros((3, 3)), np.full((3, 3), 0.5), np.linspace(0, 2, 9).reshape(3, 3)])
    fig = show_grid(imgs, scale="shared")
    assert {ax.images[0].get_clim() for ax in fig.axes} == {(0.0, 2.0)}
    fig = show_grid(imgs, scale="shared", vmin=0, vmax=1)
    assert {ax.images[0].get_clim() for ax in fig.axes} == {(0, 1)}


def test_show_grid_each_scale_stretches_every_image():
    imgs = np.stack([np.linspace(0, 1, 9).reshape(3, 3), np.linspace(5, 7, 9).reshape(3, 3)])
    fig = show_grid(imgs, scale="each")
    assert [ax.images[0].get_clim() for ax in fig.axes] == [(0.0, 1.0), (5.0, 7.0)]


def test_show_grid_list_of_colour_images_and_negative():
    fig = show_grid([RNG.random((3, 4, 4)), RNG.random((4, 4, 3))], negative=True)
    assert [ax.images[0].get_array().shape for ax in fig.axes] == [(4, 4, 3), (4, 4, 3)]


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": "global"}, "scale must be one of"),
    ({"titles": ["only one"]}, "titles must give one title per image"),
    ({"ncols": 0}, "ncols must be >= 1"),
])
def test_show_grid_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        show_grid(RNG.random((3, 4, 4)), **kwargs)


def test_show_grid_bad_images():
    with pytest.raises(ValueError, match="images must have shape"):
        show_grid(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="at least one image"):
        show_grid([])


def test_mosaic_layout_and_gaps():
    patches = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)  # (OH, OW, p, p)
    tiled = mosaic(patches, gap=1)
    assert tiled.shape == (2 * 3 - 1, 3 * 3 - 1)
    np.testing.assert_array_equal(tiled[3:5, 6:8], patches[1, 2])
    assert np.isnan(tiled[2]).all() and np.isnan(tiled[:, 2]).all()


@settings(max_examples=30, deadline=None)
@given(OH=st.integers(1, 4), OW=st.integers(1, 4), h=st.integers(1, 5), w=st.integers(1, 5), gap=st.integers(0, 2))
def test_mosaic_places_every_tile(OH, OW, h, w, gap):
    patches = np.arange(OH * OW * h * w, dtype=float).reshape(OH, OW, h, w)
    tiled = mosaic(patches, gap=gap, ncols=OW)  # ncols: (OH, 1, h, w) alone reads as N images (N, 1, H, W)
    assert tiled.shape == (OH * (h + gap) - gap, OW * (w + gap) - gap)
    for i in range(OH):
        for j in range(OW):
            top, left = i * (h + gap), j * (w + gap)
            np.testing.assert_array_equal(tiled[top:top + h, left:left + w], patches[i, j])
    assert np.isnan(tiled).sum() == tiled.size - patches.size
    plt.close("all")


def test_mosaic_each_scale_and_unused_cells():
    imgs = np.stack([np.full((2, 2), 3.0), np.array([[1.0, 2.0], [3.0, 5.0]]), np.zeros((2, 2))])
    tiled = mosaic(imgs, ncols=2, gap=0, scale="each")
    assert tiled.shape == (4, 4)
    np.testing.assert_array_equal(tiled[:2, :2], 0.0)  # a constant tile becomes 0, as imshow draws it
    np.testing.assert_allclose(tiled[:2, 2:], [[0.0, 0.25], [0.5, 1.0]])
    assert np.isnan(tiled[2:, 2:]).all()


def test_mosaic_rejects_colour_and_mixed_shapes():
    with pytest.raises(ValueError, match="grey and of one shape"):
        mosaic([np.zeros((3, 2, 2))])
    with pytest.raises(ValueError, match="grey and of one shape"):
        mosaic([np.zeros((2, 2)), np.zeros((3, 3))])


# ---------------------------------------------------------------------------------------------
# show_kernel


def test_show_kernel_symmetric_limits_and_values():
    k = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 4.0]])
    ax = show_kernel(k, title="sobel")
    assert ax.images[0].get_clim() == (-4.0, 4.0)
    assert [t.get_text() for t in ax.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "4"]
    assert ax.get_title() == "sobel"


def test_show_kernel_formats_fractions_and_accepts_4d():
    ax = show_kernel(np.full((1, 1, 2, 2), 0.25))
    assert [t.get_text() for t in ax.texts] == ["0.25"] * 4
    ax = show_kernel(np.full((2, 2), 0.25), fmt="{:.1f}")
    assert ax.texts[0].get_text() == "0.2"


def test_show_kernel_large_or_unannotated_has_no_text():
    assert len(show_kernel(RNG.standard_normal((11, 11))).texts) == 0
    assert len(show_kernel(np.eye(3), annotate=False).texts) == 0


def test_show_kernel_all_zero():
    assert show_kernel(np.zeros((3, 3))).images[0].get_clim() == (-1.0, 1.0)


def test_show_kernel_rejects_bad_shape():
    with pytest.raises(ValueError, match="k must have shape"):
        show_kernel(np.zeros((2, 3, 3)))


# ---------------------------------------------------------------------------------------------
# show_windows


def _rects(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_linestyle() == "solid"]


def test_show_windows_all_windows_when_few():
    ax = show_windows(np.zeros((28, 28)), 7, 7)
    rects = _rects(ax)
    assert len(rects) == 16
    assert rects[5].get_xy() == (7 - 0.5, 7 - 0.5) and rects[5].get_width() == 7
    assert ax.get_title() == "4x4 windows of 7x7, stride 7"


def test_show_windows_default_positions_when_many():
    ax = show_windows(np.zeros((1, 28, 28)), 7, 2)
    assert [r.get_xy() for r in _rects(ax)] == [(-0.5, -0.5), (1.5, -0.5), (-0.5, 1.5), (19.5, 19.5)]


def test_show_windows_explicit_positions_and_padding():
    ax = show_windows(np.zeros((5, 5)), 3, stride=2, positions=[(0, 0), (2, 2)], padding=1)
    assert [r.get_xy() for r in _rects(ax)] == [(-0.5, -0.5), (3.5, 3.5)]
    assert ax.images[0].get_array().shape == (7, 7)
    assert any(p.get_linestyle() in ("--", "dashed") for p in ax.patches)  # the unpadded image's border


@settings(max_examples=25, deadline=None)
@given(H=st.integers(3, 12), W=st.integers(3, 12), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1))
def test_show_windows_all_positions(H, W, k, s, p):
    ax = show_windows(np.zeros((H, W)), k, stride=s, padding=p, positions="all")
    OH, OW = output_size(H, k, s, p), output_size(W, k, s, p)
    rects = _rects(ax)
    assert len(rects) == OH * OW
    assert rects[-1].get_xy() == ((OW - 1) * s - 0.5, (OH - 1) * s - 0.5)
    plt.close("all")


@pytest.mark.parametrize("positions", [[(0, 5)], [(1,)], [(0.5, 0)], ["ab"]])
def test_show_windows_bad_positions(positions):
    with pytest.raises(ValueError, match="positions must be"):
        show_windows(np.zeros((6, 6)), 3, positions=positions)


def test_show_windows_kernel_too_big():
    with pytest.raises(ValueError, match="does not fit"):
        show_windows(np.zeros((4, 4)), 5)


# ---------------------------------------------------------------------------------------------
# plot_timings


def test_plot_timings_horizontal_log_axis_with_labels():
    ax = plot_timings(["loops", "im2col", "conv2d"], [2.0, 0.004, 0.00002], title="ladder")
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["2 s", "4 ms (500x)", "20 µs (100,000x)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["loops", "im2col", "conv2d"]
    assert ax.get_title() == "ladder"


def test_plot_timings_small_speedups_and_slowdowns():
    ax = plot_timings(["a", "b", "c"], [1.0, 0.4, 2.0])
    assert [t.get_text() for t in ax.texts] == ["1 s", "400 ms (2.5x)", "2 s (0.5x)"]


def test_plot_timings_vertical_without_speedup():
    ax = plot_timings(["a", "b"], [1e-3, 2e-9], horizontal=False, speedup=False)
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["1 ms", "2 ns"]


@pytest.mark.parametrize("names, seconds", [(["a"], [1.0, 2.0]), ([], []), (["a"], [0.0]), (["a"], [np.nan])])
def test_plot_timings_bad_input(names, seconds):
    with pytest.raises(ValueError, match="seconds"):
        plot_timings(names, seconds)


def test_format_seconds():
    assert [_format_seconds(s) for s in (12.5, 0.0123, 4.56e-5, 7e-9)] == ["12.5 s", "12.3 ms", "45.6 µs", "7 ns"]


# ---------------------------------------------------------------------------------------------
# load_photo


def test_load_photo_full_colour():
    photo = load_photo()
    assert photo.shape == (3, 600, 512) and photo.dtype == np.float64
    assert 0.0 <= photo.min() and photo.max() <= 1.0
    assert photo.flags.c_contiguous


def test_load_photo_block_average_and_grey():
    full = load_photo()
    small = load_photo(300)
    assert small.shape == (3, 300, 256)
    np.testing.assert_allclose(small[:, 0, 0], full[:, :2, :2].mean(axis=(1, 2)))
    grey = load_photo(150, grey=True)
    assert grey.shape == (150, 128)
    np.testing.assert_allclose(grey, np.tensordot([0.299, 0.587, 0.114], load_photo(150), axes=1))


def test_load_photo_returns_fresh_arrays():
    a = load_photo(100)
    a[:] = 0
    assert load_photo(100).max() > 0


@pytest.mark.parametrize("size, exc", [(0, ValueError), (2.5, TypeError)])
def test_load_photo_bad_size(size, exc):
    with pytest.raises(exc, match="size"):
        load_photo(size)
