"""Tests for the widgets of notebooks 04 and 05 (ArithmeticExplorer, PoolExplorer, ShiftExplorer) and
the translation-experiment helpers, driven through the controls exactly as a slider drag would be."""
import ipywidgets as ipw
import numpy as np
import pytest
from matplotlib.figure import Figure

from convlib import conv2d, output_size, pool2d
from convlib import widgets as W
from convlib.widgets import ArithmeticExplorer, PoolExplorer, ShiftExplorer, conv_arithmetic
from convlib.widgets import pooling as pooling_module
from convlib.widgets.pooling import PIPELINES, pipeline_maps, shift_canvas, shift_change, shift_right

PNG = b"\x89PNG"
RNG = np.random.default_rng(0)


def set_values(widget, **values):
    for name, v in values.items():
        widget.controls[name].value = v


# ---------------------------------------------------------------------------------------------
# conv_arithmetic


def test_conv_arithmetic_formula_with_numbers():
    a = conv_arithmetic(7, 3, 2, 1, 1)
    assert a["formula"] == "O = (7 + 2·1 − 1·(3−1) − 1)//2 + 1 = 4"
    assert a["output_size"] == 4 and a["valid"] and a["reason"] == "" and a["unused"] == 0
    assert a["span"] == 3 and a["padded"] == 9


@pytest.mark.parametrize("I, K, S, P, D", [(28, 5, 1, 0, 1), (28, 5, 2, 2, 1), (7, 3, 1, 0, 3), (1, 1, 1, 0, 1),
                                           (16, 9, 5, 5, 2), (8, 3, 2, 0, 1), (10, 4, 3, 1, 2)])
def test_conv_arithmetic_matches_output_size(I, K, S, P, D):
    a = conv_arithmetic(I, K, S, P, D)
    assert a["output_size"] == output_size(I, K, S, P, D)
    assert a["formula"].endswith(f"= {a['output_size']}")
    last_tap = (a["output_size"] - 1) * S + D * (K - 1)  # padded index of the last cell any window reads
    assert a["unused"] == I + 2 * P - 1 - last_tap


def test_conv_arithmetic_invalid_is_reported_not_raised():
    a = conv_arithmetic(3, 3, 1, 0, 2)
    assert a["output_size"] is None and not a["valid"]
    assert "spans D·(K−1) + 1 = 5 cells" in a["reason"] and "I + 2P = 3" in a["reason"]
    assert "(invalid)" in a["formula"]
    with pytest.raises(ValueError):
        output_size(3, 3, 1, 0, 2)  # the library refuses the same case


# ---------------------------------------------------------------------------------------------
# ArithmeticExplorer


def test_arithmetic_explorer_defaults():
    ax = ArithmeticExplorer()
    assert ax.error is None
    assert ax.output_size == 4 and ax.valid and ax.reason == ""
    assert ax.formula == "O = (7 + 2·1 − 1·(3−1) − 1)//2 + 1 = 4"
    assert ax.position == (0, 0) and ax.window == (0, 0)
    assert ax.taps == [(r, c) for r in range(3) for c in range(3)]
    assert [ax.controls[k].description for k in ("input", "kernel", "stride", "padding", "dilation")] == \
        ["input", "kernel", "stride", "padding", "dilation"]
    assert isinstance(ax._label, ipw.HTML) and ax.formula in ax._label.value  # printed as text, not only drawn
    assert "4 × 4" in ax._label.value
    assert bytes(ax._view.value).startswith(PNG)
    assert isinstance(ax.widget, ipw.VBox)


def test_sliders_update_the_formula_and_the_printed_text():
    ax = ArithmeticExplorer()
    ax.controls["input"].value = 15
    assert ax.output_size == output_size(15, 3, 2, 1) == 8
    assert ax.formula == "O = (15 + 2·1 − 1·(3−1) − 1)//2 + 1 = 8"
    assert "8 × 8" in ax._label.value and "= 8" in ax._label.value
    set_values(ax, stride=1, padding=0, dilation=2)
    assert ax.output_size == 11 and ax.formula.endswith("= 11")
    assert ax.taps[-1] == (4, 4)  # 3 taps, 2 apart


def test_drawn_cells_match_the_sizes():
    ax = ArithmeticExplorer(input_size=9, kernel_size=3, stride=2, padding=2, dilation=2)
    inp, out = ax.figure.axes[0].images[0].get_array(), ax.figure.axes[1].images[0].get_array()
    assert inp.shape == (13, 13) and out.shape == (ax.output_size,) * 2 == (5, 5)
    ring = np.ones((13, 13), dtype=bool)
    ring[2:11, 2:11] = False  # the padding ring: drawn as padding (1) unless the window covers it
    assert np.all(inp[ring] == 1) and np.all(inp[~ring] >= 2)
    assert (inp == 3).sum() == 9  # input cells inside the 5x5 span of window (0, 0): rows and columns 2..4
    taps = ax.figure.axes[0].collections[0].get_offsets()
    assert len(taps) == 9 and [tuple(t) for t in taps[:2]] == [(0, 0), (2, 0)]  # (x, y): columns 0 and 2
    assert (out == 1).sum() == 1 and out[0, 0] == 1  # the first output cell


def test_position_slider_moves_the_window_and_the_output_cell():
    ax = ArithmeticExplorer(input_size=9, kernel_size=3, stride=2, padding=1, dilation=2)
    assert ax.controls["position"].max == ax.output_size ** 2 - 1 == 15
    ax.controls["position"].value = 7
    assert ax.position == (1, 3) and ax.window == (2, 6)
    assert ax.taps[0] == (2, 6) and ax.taps[-1] == (6, 10)
    out = ax.figure.axes[1].images[0].get_array()
    assert out[1, 3] == 1 and out.sum() == 1
    taps = ax.figure.axes[0].collections[0].get_offsets()  # (x, y) = (column, row)
    assert sorted((int(y), int(x)) for x, y in taps) == sorted(ax.taps)


def test_position_is_clamped_when_the_output_shrinks():
    ax = ArithmeticExplorer(input_size=16, kernel_size=3, stride=1, padding=0)
    ax.controls["position"].value = 195  # the last of 14 x 14
    assert ax.position == (13, 13)
    ax.controls["input"].value = 5
    assert ax.output_size == 3 and ax.controls["position"].max == 8
    assert ax.controls["position"].value == 8 and ax.position == (2, 2)
    assert ax.error is None


def test_invalid_combination_is_shown_not_raised():
    ax = ArithmeticExplorer()
    set_values(ax, input=3, padding=0, dilation=2)
    assert ax.error is None  # not an error: a state the explorer explains
    assert ax.valid is False and ax.output_size is None and ax.position is None
    assert "no window fits" in ax.reason and "no window fits" in ax._label.value
    assert "(invalid)" in ax.formula
    assert ax.controls["position"].disabled
    assert ax.figure.axes[1].texts[0].get_text().startswith("no output")
    ax.controls["padding"].value = 1  # padded input 5 = the span: valid again
    assert ax.valid and ax.output_size == 1 and not ax.controls["position"].disabled


def test_an_invalid_start_is_explained_too():
    ax = ArithmeticExplorer(input_size=2, kernel_size=5, padding=0)
    assert ax.error is None and not ax.valid and ax.controls["position"].disabled
    ax.controls["padding"].value = 2
    assert ax.valid and ax.output_size == 1 and not ax.controls["position"].disabled


def test_unused_cells_are_reported():
    ax = ArithmeticExplorer(input_size=8, kernel_size=3, stride=2, padding=0)
    assert ax.unused == 1 and "never reached" in ax._label.value
    ax.controls["input"].value = 7
    assert ax.unused == 0 and "never reached" not in ax._label.value


def test_arithmetic_explorer_is_fast_and_static(capsys):
    ax = ArithmeticExplorer(input_size=16, kernel_size=9, padding=5, stride=1)
    assert ax.last_update_seconds < 2
    assert isinstance(ax.figure, Figure) and len(ax.figure.axes) == 2
    ax.show_static()
    ax._ipython_display_()


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"input_size": 0}, ValueError, "input must be >= 1"),
    ({"input_size": 17}, ValueError, "input must be <= 16"),
    ({"padding": -1}, ValueError, "padding must be >= 0"),
    ({"stride": 1.5}, TypeError, "stride must be an integer"),
])
def test_arithmetic_explorer_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ArithmeticExplorer(**kwargs)


# ---------------------------------------------------------------------------------------------
# PoolExplorer


def test_pool_explorer_default_map():
    pe = PoolExplorer()
    assert pe.error is None and pe.image.shape == (24, 24) and pe.image.min() >= 0
    assert pe.output.shape == (12, 12) and pe.kept == 0.25
    np.testing.assert_array_equal(pe.output, pool2d(pe.image[None, None], 2)[0, 0])
    assert "keeps 144 of 576 numbers (25.0%)" in pe._label.value
    assert bytes(pe._view.value).startswith(PNG)


@pytest.mark.parametrize("k, s", [(2, 2), (3, 2), (3, 3), (2, 3), (1, 1), (5, 1)])
@pytest.mark.parametrize("mode", ["max", "mean", "sum"])
def test_pool_explorer_output_is_pool2d(k, s, mode):
    img = RNG.normal(size=(11, 13))
    pe = PoolExplorer(img)
    set_values(pe, pool_size=k, stride=s, mode=mode)
    assert pe.error is None
    np.testing.assert_array_equal(pe.output, pool2d(img[None, None], k, s, mode)[0, 0])
    assert pe.figure.axes[1].images[0].get_array().shape == pe.output.shape


def test_pool_explorer_winners_are_the_maxima():
    img = RNG.normal(size=(9, 9))
    pe = PoolExplorer(img, pool_size=3, stride=2)
    rows, cols = pe.winners[..., 0], pe.winners[..., 1]
    np.testing.assert_array_equal(img[rows, cols], pe.output)
    assert len(pe.figure.axes[0].collections) == 2  # the window outlines and the winner dots
    pe.controls["mode"].value = "mean"
    assert len(pe.figure.axes[0].collections) == 1


def test_pool_explorer_small_maps_show_numbers():
    pe = PoolExplorer(np.arange(16.0).reshape(4, 4))
    assert [t.get_text() for t in pe.figure.axes[1].texts] == ["5", "7", "13", "15"]


def test_pool_explorer_errors_are_shown_not_raised(monkeypatch):
    pe = PoolExplorer(RNG.random((8, 8)))
    monkeypatch.setattr(pooling_module, "pool2d", lambda *a, **k: 1 / 0)
    pe.controls["stride"].value = 1
    assert pe.error.startswith("ZeroDivisionError") and "ZeroDivisionError" in pe._message.value
    monkeypatch.undo()
    pe.controls["stride"].value = 2
    assert pe.error is None


@pytest.mark.parametrize("kwargs, match", [
    ({"image": np.zeros((3, 8, 8))}, "image must be grey"),
    ({"mode": "median"}, "mode must be one of"),
    ({"pool_size": 9}, "pool_size must be <= 8"),
])
def test_pool_explorer_bad_arguments(kwargs, match):
    kwargs.setdefault("image", np.zeros((8, 8)))
    with pytest.raises(ValueError, match=match):
        PoolExplorer(**kwargs)


# ---------------------------------------------------------------------------------------------
# The translation experiment


def test_shift_canvas_and_shift_right_agree():
    img = RNG.random((2, 5, 6))
    c0, c3 = shift_canvas(img, 0, 4), shift_canvas(img, 3, 4)
    assert c0.shape == (2, 13, 14)
    np.testing.assert_array_equal(c3, shift_right(c0, 3))
    assert c3.sum() == pytest.approx(img.sum())  # nothing wrapped or fell off
    with pytest.raises(ValueError, match="shift must be <= margin"):
        shift_canvas(img, 5, 4)


def test_pipeline_maps_shapes_and_definitions():
    x, w = RNG.random((2, 1, 20, 22)), RNG.normal(size=(3, 1, 5, 5))
    maps = pipeline_maps(x, w)
    assert list(maps) == list(PIPELINES)
    fmap = np.maximum(conv2d(x, w), 0)
    np.testing.assert_array_equal(maps["conv"], fmap)
    np.testing.assert_allclose(maps["conv, stride 2"], fmap[..., ::2, ::2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(maps["conv + max-pool 2"], pool2d(fmap, 2))
    assert maps["conv + mean-pool 2"].shape == (2, 3, 8, 9)


def test_shift_change():
    ref = np.zeros((3, 8))
    ref[:, 1] = 1.0
    assert shift_change(ref, ref) == (0.0, 0)
    moved = shift_right(ref, 2)
    assert shift_change(moved, ref)[0] == pytest.approx(np.sqrt(2))
    assert shift_change(moved, ref, range(4)) == (0.0, 2)
    with pytest.raises(ValueError, match="one shape"):
        shift_change(ref, ref[:, :4])


def test_convolution_is_equivariant_and_stride_only_for_even_shifts():
    digit = RNG.random((12, 12)) * (RNG.random((12, 12)) > 0.6)
    w = RNG.normal(size=(2, 1, 3, 3))
    ref = pipeline_maps(shift_canvas(digit, 0, 6)[None, None], w)
    for k in range(7):
        out = pipeline_maps(shift_canvas(digit, k, 6)[None, None], w)
        assert np.abs(out["conv"] - shift_right(ref["conv"], k)).max() < 1e-12
        aligned = shift_change(out["conv, stride 2"], ref["conv, stride 2"], range(k + 1))
        assert (aligned[0] < 1e-12) == (k % 2 == 0)
        if k % 2 == 0:
            assert aligned[1] == k // 2
            assert shift_change(out["conv + max-pool 2"], ref["conv + max-pool 2"], range(k + 1))[0] < 1e-12


def test_shift_explorer_slider():
    se = ShiftExplorer()
    assert se.error is None and se.canvas.shape == (44, 44)
    assert all(e["change"] == 0 and e["aligned"] == 0 for e in se.errors.values())
    se.controls["shift"].value = 3
    assert se.canvas.sum() == pytest.approx(se.image.sum())
    e = se.errors
    assert e["conv"]["aligned"] < 1e-12 and e["conv"]["best_shift"] == 3 and e["conv"]["change"] > 0.1
    assert e["conv, stride 2"]["aligned"] > 0.1 and e["conv + max-pool 2"]["aligned"] > 0.1
    se.controls["shift"].value = 4
    assert se.errors["conv, stride 2"]["aligned"] < 1e-12 and se.errors["conv, stride 2"]["best_shift"] == 2
    assert "best shift" in se._label.value
    assert len(se.figure.axes) == 5 and se.last_update_seconds < 5
    assert se.controls["shift"].max == 6


def test_shift_explorer_custom_image_and_kernel():
    img = np.zeros((10, 10))
    img[3:7, 4] = 1.0
    se = ShiftExplorer(img, kernel=np.array([[1.0, -1.0]]), max_shift=3)
    assert se.canvas.shape == (20, 20) and se.outputs["conv"].shape == (20, 19)
    with pytest.raises(ValueError, match="kernel must have shape"):
        ShiftExplorer(img, kernel=np.ones(3))


def test_widgets_are_exported():
    for name in ("ArithmeticExplorer", "PoolExplorer", "ShiftExplorer", "conv_arithmetic"):
        assert name in W.__all__ and hasattr(W, name)
