"""Tests for convlib.widgets, driven through the controls exactly as a slider drag would be."""
import ipywidgets as ipw
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib import conv2d, filters, make_patches
from convlib import widgets as W
from convlib.widgets import kernel_editor as kernel_editor_module
from convlib.widgets import KernelEditor, PatchExplorer, WeightCounter, count_weights, preset_kernel

PNG = b"\x89PNG"
RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def editor_images():
    """A small grey image and a small colour image (fast, and independent of the data files)."""
    return {"grey": RNG.random((12, 10)), "colour": RNG.random((3, 9, 11))}


def same_conv(image, kernel):
    """The oracle: every channel cross-correlated with ``kernel``, 'same' padding."""
    chans = image[None] if image.ndim == 2 else image
    out = conv2d(chans[:, None], kernel[None, None], padding=kernel.shape[0] // 2)[:, 0]
    return out[0] if image.ndim == 2 else out


def weight_names(editor):
    return sorted(n for n in editor.controls if n.startswith("w_"))


# ---------------------------------------------------------------------------------------------
# preset_kernel and count_weights


@pytest.mark.parametrize("name", W.PRESETS)
@pytest.mark.parametrize("size", [3, 5])
def test_preset_kernel_shapes(name, size):
    k = preset_kernel(name, size)
    assert k.shape == (size, size) and k.dtype == np.float64


@pytest.mark.parametrize("name", ["identity", "sharpen", "laplacian", "sobel x", "sobel y", "emboss", "outline"])
def test_3x3_presets_are_zero_padded_in_the_centre(name):
    k3, k5 = preset_kernel(name, 3), preset_kernel(name, 5)
    np.testing.assert_array_equal(k5[1:4, 1:4], k3)
    assert np.count_nonzero(k5) == np.count_nonzero(k3)
    np.testing.assert_array_equal(k3, filters.kernel(name.replace(" ", "_")))


def test_sized_presets_are_built_at_the_grid_size():
    np.testing.assert_allclose(preset_kernel("box blur", 5), filters.box_blur(5))
    np.testing.assert_allclose(preset_kernel("gaussian blur", 5), filters.gaussian_blur(5, 1.0))
    np.testing.assert_array_equal(preset_kernel("diagonal edge", 5), filters.diagonal_edge(5))


@pytest.mark.parametrize("args, exc, match", [
    (("blur", 3), ValueError, "name must be one of"),
    (("identity", 4), ValueError, "size must be odd"),
    (("identity", 1), ValueError, "size must be >= 3"),
    (("identity", 3.0), TypeError, "size must be an integer"),
])
def test_preset_kernel_bad_arguments(args, exc, match):
    with pytest.raises(exc, match=match):
        preset_kernel(*args)


def test_count_weights_lecture_numbers():
    c = count_weights()
    assert c["fully_connected"] == {"weights": 15_700, "outputs": 20, "total": 15_910}
    assert c["one_patch"]["total"] == 2_230
    assert c["shared"]["outputs"] == 7_220 and c["shared"]["outputs"] // 20 == 361
    assert c["shared"]["weights"] == c["one_patch"]["weights"] == 2_020
    assert c["locally_connected"]["weights"] == 7_220 * 101


def test_count_weights_bad_arguments():
    with pytest.raises(ValueError, match="does not fit"):
        count_weights(image_size=8, patch_size=9)
    with pytest.raises(ValueError, match="units must be >= 1"):
        count_weights(units=0)


# ---------------------------------------------------------------------------------------------
# KernelEditor


def test_kernel_editor_defaults():
    ed = KernelEditor()
    assert ed.error is None
    assert list(ed.images) == ["digit", "photo", "photo (grey)"]
    assert ed.images["digit"].shape == (28, 28) and ed.images["photo"].shape == (3, 300, 256)
    assert ed.images["photo (grey)"].shape == (300, 256)
    assert weight_names(ed) == [f"w_{r}_{c}" for r in range(3) for c in range(3)]
    np.testing.assert_array_equal(ed.kernel, filters.identity())
    np.testing.assert_allclose(ed.output, ed.image)
    assert isinstance(ed.widget, ipw.VBox)
    assert all(bytes(v.value).startswith(PNG) for v in ed._views.values())


def test_setting_a_slider_recomputes_through_the_observer(editor_images):
    ed = KernelEditor(editor_images)
    before, heat_map = ed.output.copy(), bytes(ed._views["kernel"].value)
    ed.controls["w_0_0"].value = 2.0
    assert bytes(ed._views["kernel"].value) != heat_map
    expected_kernel = filters.identity()
    expected_kernel[0, 0] = 2.0
    np.testing.assert_array_equal(ed.weights, expected_kernel)
    np.testing.assert_array_equal(ed.kernel, expected_kernel)
    np.testing.assert_allclose(ed.output, same_conv(ed.image, expected_kernel), rtol=1e-12)
    assert not np.allclose(ed.output, before)
    assert ed.controls["preset"].value == "custom"


def test_preset_fills_the_sliders_and_updates_once(editor_images, monkeypatch):
    ed = KernelEditor(editor_images)
    calls = []
    original = KernelEditor._compute
    monkeypatch.setattr(KernelEditor, "_compute", lambda self: (calls.append(1), original(self)))
    ed.controls["preset"].value = "sobel x"
    assert len(calls) == 1  # nine slider changes, one recompute
    np.testing.assert_array_equal(ed.weights, filters.sobel_x())
    np.testing.assert_allclose(ed.output, same_conv(ed.image, filters.sobel_x()), rtol=1e-12)
    assert ed.controls["preset"].value == "sobel x"


def test_size_toggle_rebuilds_the_grid(editor_images):
    ed = KernelEditor(editor_images, preset="sharpen")
    old = ed.controls["w_0_0"]
    ed.controls["size"].value = 5
    assert weight_names(ed) == [f"w_{r}_{c}" for r in range(5) for c in range(5)]
    assert ed.controls["w_0_0"] is not old
    assert len(ed._grid.children) == 25
    np.testing.assert_array_equal(ed.weights, np.pad(filters.sharpen(), 1))
    np.testing.assert_allclose(ed.output, same_conv(ed.image, ed.kernel), rtol=1e-12)
    ed.controls["preset"].value = "box blur"
    np.testing.assert_allclose(ed.kernel, filters.box_blur(5))
    ed.controls["w_4_4"].value = -1.0  # the new sliders are wired too
    assert ed.kernel[4, 4] == -1.0 and ed.controls["preset"].value == "custom"


def test_size_toggle_pads_and_crops_a_custom_grid(editor_images):
    ed = KernelEditor(editor_images)
    ed.controls["w_0_0"].value = 3.0
    ed.controls["size"].value = 5
    custom = filters.identity()
    custom[0, 0] = 3.0
    np.testing.assert_array_equal(ed.weights, np.pad(custom, 1))
    ed.controls["w_0_0"].value = 7.0  # outside the centre: cropped away on the way back
    ed.controls["size"].value = 3
    np.testing.assert_array_equal(ed.weights, custom)
    assert ed.error is None


def test_normalize_divides_by_a_non_zero_sum(editor_images):
    ed = KernelEditor(editor_images, preset="box blur")
    ed.controls["w_1_1"].value = 2.0  # sum is now 8/9 + 2
    assert ed.kernel.sum() != pytest.approx(1.0)
    ed.controls["normalize"].value = True
    assert ed.kernel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ed.kernel, ed.weights / ed.weights.sum())
    np.testing.assert_allclose(ed.output, same_conv(ed.image, ed.kernel), rtol=1e-12)
    ed.controls["preset"].value = "sobel y"  # sums to zero: left alone
    np.testing.assert_array_equal(ed.kernel, filters.sobel_y())


def test_colour_image_is_filtered_per_channel(editor_images):
    ed = KernelEditor(editor_images, preset="emboss")
    ed.controls["image"].value = "colour"
    assert ed.image.shape == ed.output.shape == (3, 9, 11)
    for c in range(3):
        np.testing.assert_allclose(ed.output[c], same_conv(ed.image[c], filters.emboss()), rtol=1e-12)


def test_channels_last_and_single_array_images():
    hwc = RNG.random((6, 7, 3))
    ed = KernelEditor(hwc, preset="laplacian")
    assert list(ed.images) == ["image"]
    np.testing.assert_array_equal(ed.image, hwc.transpose(2, 0, 1))
    np.testing.assert_allclose(ed.output, same_conv(ed.image, filters.laplacian()), rtol=1e-12)


def test_photo_output_is_exactly_conv2d():
    ed = KernelEditor(preset="outline", size=5)
    for name in ("photo", "photo (grey)", "digit"):
        ed.controls["image"].value = name
        np.testing.assert_array_equal(ed.output, same_conv(ed.images[name], preset_kernel("outline", 5)))
    assert ed.last_update_seconds is not None and ed.last_update_seconds < 5


def test_display_mode_changes_the_picture_not_the_output(editor_images):
    ed = KernelEditor(editor_images, preset="sobel x")
    out, png = ed.output.copy(), ed._views["output"].value
    ed.controls["display"].value = "clip"
    np.testing.assert_array_equal(ed.output, out)
    assert ed._views["output"].value != png


def test_callback_errors_are_shown_not_raised(editor_images, monkeypatch):
    ed = KernelEditor(editor_images)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(kernel_editor_module, "conv2d", broken)
    ed.controls["w_1_1"].value = 0.5  # must not raise
    assert ed.error == "RuntimeError: boom"
    assert "boom" in ed._message.value
    monkeypatch.undo()
    ed.controls["w_1_1"].value = 0.25
    assert ed.error is None and ed._message.value == ""


def test_errors_in_react_are_shown_not_raised(editor_images, monkeypatch):
    ed = KernelEditor(editor_images)
    monkeypatch.setattr(kernel_editor_module, "preset_kernel", lambda *a: 1 / 0)
    ed.controls["preset"].value = "sharpen"
    assert ed.error.startswith("ZeroDivisionError")
    assert ed._busy is False


def test_kernel_editor_figure_and_static(editor_images, capsys):
    ed = KernelEditor(editor_images, preset="sharpen")
    fig = ed.figure
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), ed.output)
    assert fig.axes[1].images[0].get_clim() == (-5.0, 5.0)
    ed.show_static()
    ed._ipython_display_()


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 4}, "size must be one of"),
    ({"preset": "blur"}, "preset must be one of"),
    ({"display": "log"}, "display must be one of"),
    ({"images": {}}, "at least one image"),
    ({"images": {"bad": np.zeros((2, 3, 4, 5))}}, "images\\['bad'\\] must have shape"),
])
def test_kernel_editor_bad_arguments(kwargs, match):
    kwargs.setdefault("images", {"x": np.zeros((5, 5))})
    with pytest.raises(ValueError, match=match):
        KernelEditor(**kwargs)


# ---------------------------------------------------------------------------------------------
# PatchExplorer


def test_patch_explorer_default_digit():
    pe = PatchExplorer()
    assert pe.error is None
    assert pe.count == 16 and pe.patches.shape == (4, 4, 7, 7) and pe.uncovered == (0, 0)
    assert np.shares_memory(pe.patches, pe.image)
    assert "<b>16</b>" in pe._label.value
    assert bytes(pe._view.value).startswith(PNG)


def test_patch_explorer_sliders():
    img = RNG.random((28, 28))
    pe = PatchExplorer(img)
    pe.controls["stride"].value = 2
    assert pe.count == 121 and pe.uncovered == (1, 1)
    np.testing.assert_array_equal(pe.patches, make_patches(img[None], 7, 2)[0])
    pe.controls["patch_size"].value = 10
    pe.controls["stride"].value = 1
    assert pe.count == 361
    pe.controls["patch_size"].value = 28
    assert pe.count == 1 and pe.uncovered == (0, 0)


def test_patch_explorer_scale_and_figure():
    pe = PatchExplorer(RNG.random((1, 12, 12)), patch_size=4, stride=4)
    assert len(pe.figure.axes) == 2
    assert pe.figure.axes[1].images[0].get_clim() == pytest.approx((pe.image.min(), pe.image.max()))
    pe.controls["scale"].value = "each"
    assert pe.figure.axes[1].images[0].get_clim() == (0.0, 1.0)
    assert len(pe.figure.axes) == 2  # redrawn, not stacked


def test_patch_explorer_keeps_a_one_column_grid():
    pe = PatchExplorer(RNG.random((20, 12)), patch_size=12, stride=1)
    assert pe.patches.shape[:2] == (9, 1) and pe.uncovered == (0, 0)
    tiled = pe.figure.axes[1].images[0].get_array()
    assert tiled.shape == (9 * 12 + 8, 12)  # nine patches in one column, one-pixel gaps


def test_patch_explorer_bad_arguments():
    with pytest.raises(ValueError, match="image must be grey"):
        PatchExplorer(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="scale must be one of"):
        PatchExplorer(np.zeros((8, 8)), scale="global")
    with pytest.raises(ValueError, match="patch_size must be >= 1"):
        PatchExplorer(np.zeros((8, 8)), patch_size=0)
    with pytest.raises(ValueError, match="stride must be <= 8"):
        PatchExplorer(np.zeros((8, 8)), stride=9)


# ---------------------------------------------------------------------------------------------
# WeightCounter


def test_weight_counter_defaults_and_sliders():
    wc = WeightCounter()
    assert wc.error is None
    assert wc.counts == count_weights()
    assert wc.counts["fully_connected"]["total"] == 15_910
    wc.controls["units"].value = 10
    assert wc.counts["shared"]["outputs"] == 3_610
    wc.controls["stride"].value = 2
    assert wc.counts["shared"]["outputs"] == 10 * 10 * 10
    ticks = [t.get_text() for t in wc.figure.axes[0].get_yticklabels()]
    assert ticks[0] == "fully connected\n(total 7,960)"
    assert bytes(wc._view.value).startswith(PNG)


def test_weight_counter_shows_errors_instead_of_raising():
    wc = WeightCounter(image_size=12, patch_size=3)
    wc.controls["patch_size"].value = 12
    assert wc.error is None and wc.counts["shared"]["outputs"] == 20
    wc.image_size = 10  # now the patch no longer fits: the next update reports it
    wc.controls["units"].value = 5
    assert "does not fit" in wc.error and "does not fit" in wc._message.value


def _live_models():
    """All widget models alive in the kernel (ipywidgets 8 keeps them in ``_instances``)."""
    return ipw.widgets.widget._instances


def test_size_round_trips_do_not_leak_widget_models(editor_images):
    ed = KernelEditor(editor_images)
    ed.controls["size"].value = 5
    ed.controls["size"].value = 3
    before = len(_live_models())
    for _ in range(3):
        ed.controls["size"].value = 5
        ed.controls["size"].value = 3
    assert len(_live_models()) == before


def test_the_browser_rounding_a_preset_weight_is_not_an_edit(editor_images):
    """The front end snaps 0.0751 to the slider's 0.01 grid and sends 0.08 back: that echo must
    leave the preset and its exact weights alone, while a real move still makes the grid custom."""
    ed = KernelEditor(editor_images, preset="gaussian blur")
    exact = ed.weights.copy()
    assert not np.allclose(exact, np.round(exact, 2))  # the preset is off the grid
    for name in weight_names(ed):
        ed.controls[name].value = round(ed.controls[name].value, 2)  # what the browser sends back
    assert ed.controls["preset"].value == "gaussian blur"
    np.testing.assert_array_equal(ed.weights, exact)
    np.testing.assert_allclose(ed.output, same_conv(ed.image, exact), rtol=1e-12)
    ed.controls["w_0_0"].value = 0.5
    assert ed.controls["preset"].value == "custom"
    assert ed.weights[0, 0] == 0.5 and ed.weights[1, 1] == exact[1, 1]
