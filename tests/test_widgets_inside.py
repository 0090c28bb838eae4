"""Tests for the widgets of notebook 08 (FilterHistory, FeatureMapExplorer) and their helpers
filter_change and layer_outputs, driven through the controls exactly as a slider drag would be.
A small untrained course CNN is enough: the widgets only show what a model computes."""
import matplotlib

matplotlib.use("Agg")

import ipywidgets as ipw  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from convlib import conv2d, pool2d  # noqa: E402
from convlib import widgets as W  # noqa: E402
from convlib.layers import Conv2D, Dense, Flatten, Sequential, Tanh, softmax_cross_entropy  # noqa: E402
from convlib.train import course_cnn  # noqa: E402
from convlib.widgets import FeatureMapExplorer, FilterHistory, filter_change, layer_outputs  # noqa: E402
from convlib.widgets import inside as inside_module  # noqa: E402

PNG = b"\x89PNG"
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def model():
    return course_cnn(seed=3)


@pytest.fixture(scope="module")
def digits():
    """Six 28x28 'digits' (random strokes in [0, 1]) and labels; no data files needed."""
    x = RNG.random((6, 1, 28, 28)) * (RNG.random((6, 1, 28, 28)) > 0.7)
    return x, np.array([0, 1, 2, 3, 4, 5])


@pytest.fixture(scope="module")
def snapshots():
    w0 = RNG.normal(size=(16, 1, 5, 5))
    return np.stack([w0 + 0.1 * t * RNG.normal(size=w0.shape) for t in range(5)])  # (5, 16, 1, 5, 5)


# ---------------------------------------------------------------------------------------------
# filter_change and layer_outputs


def test_filter_change_is_the_relative_distance(snapshots):
    change = filter_change(snapshots)
    assert change.shape == (5,) and change[0] == 0
    for t in range(5):
        expected = np.linalg.norm(snapshots[t] - snapshots[0]) / np.linalg.norm(snapshots[0])
        assert change[t] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(filter_change(2 * snapshots), change, rtol=1e-12)  # scale-free


@pytest.mark.parametrize("bad, match", [(np.zeros((3, 2, 2)), "must not be all zero"),
                                        (np.ones(4), "shape \\(T, ...\\)")])
def test_filter_change_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        filter_change(bad)


def test_layer_outputs_by_hand(model, digits):
    x, _ = digits
    maps, logits = layer_outputs(model, x, batch_size=4)  # two batches
    w1, b1 = model.layers[0].params["w"], model.layers[0].params["b"]
    w2, b2 = model.layers[3].params["w"], model.layers[3].params["b"]
    h1 = np.maximum(conv2d(x.astype(np.float32), w1, b1), 0)  # (N, 16, 24, 24)
    h2 = np.maximum(conv2d(pool2d(h1, 2), w2, b2), 0)  # (N, 64, 8, 8)
    assert [m.shape for m in maps] == [(6, 16, 24, 24), (6, 64, 8, 8)] and logits.shape == (6, 10)
    assert maps[0].dtype == np.float32
    np.testing.assert_allclose(maps[0], h1, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(maps[1], h2, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits, model.forward(x.astype(np.float32)), rtol=1e-5, atol=1e-5)


def test_layer_outputs_keeps_a_conv_without_relu():
    net = Sequential(Conv2D(1, 2, 3, rng=0, dtype=np.float64), Tanh(), Flatten(), Dense(2 * 4 * 4, 3, rng=0,
                                                                                      dtype=np.float64))
    x = RNG.normal(size=(2, 1, 6, 6))
    maps, _ = layer_outputs(net, x)
    np.testing.assert_allclose(maps[0], conv2d(x, net.layers[0].params["w"], net.layers[0].params["b"]))
    assert maps[0].min() < 0  # no ReLU applied


def test_layer_outputs_bad_input(model):
    with pytest.raises(ValueError, match="images must have shape"):
        layer_outputs(model, np.zeros((28, 28)))
    with pytest.raises(ValueError, match="at least one image"):
        layer_outputs(model, np.zeros((0, 1, 28, 28)))


def test_softmax_matches_the_loss_gradient():
    logits = RNG.normal(size=(4, 10)) * 30  # large values: no overflow
    labels = np.arange(4)
    p = inside_module._softmax(logits)
    _, dlogits = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(p, dlogits * 4 + np.eye(10)[labels], atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------------------------
# FilterHistory


def test_filter_history_slider(snapshots):
    fh = FilterHistory(snapshots)
    assert fh.error is None and fh.epoch == 0 and np.all(fh.delta == 0)
    assert bytes(fh._view.value).startswith(PNG) and isinstance(fh.widget, ipw.VBox)
    fh.controls["epoch"].value = 3
    assert fh.epoch == 3
    np.testing.assert_array_equal(fh.filters, snapshots[3, :, 0])
    np.testing.assert_allclose(fh.delta, snapshots[3, :, 0] - snapshots[0, :, 0])
    assert f"{fh.change[3]:.1%}" in fh._label.value and "epoch 3 of 4" in fh._label.value
    assert fh.controls["epoch"].max == 4
    images = [ax.images[0] for ax in fh.figure.axes[:2]]
    assert images[0].get_array().shape == (4 * 6 - 1, 4 * 6 - 1)  # 16 tiles of 5x5 in a 4x4 mosaic
    assert images[0].get_clim() == (-np.abs(snapshots).max(), np.abs(snapshots).max())  # one scale for every epoch
    line = fh.figure.axes[2].lines[1].get_xydata()
    assert tuple(line[0]) == (3, pytest.approx(fh.change[3]))


def test_filter_history_accepts_four_axes_and_ncols(snapshots):
    fh = FilterHistory(snapshots[:, :, 0], epoch=4, ncols=8)
    assert fh.epoch == 4 and fh.figure.axes[0].images[0].get_array().shape == (2 * 6 - 1, 8 * 6 - 1)
    fh.show_static()
    fh._ipython_display_()


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"snapshots": np.zeros((3, 4, 4))}, ValueError, "snapshots must have shape"),
    ({"snapshots": np.zeros((3, 2, 3, 5, 5))}, ValueError, "snapshots must have shape"),
    ({"epoch": 5}, ValueError, "epoch must be <= 4"),
    ({"epoch": 1.0}, TypeError, "epoch must be an integer"),
])
def test_filter_history_bad_arguments(snapshots, kwargs, exc, match):
    kwargs.setdefault("snapshots", snapshots)
    with pytest.raises(exc, match=match):
        FilterHistory(**kwargs)


# ---------------------------------------------------------------------------------------------
# FeatureMapExplorer


def test_feature_map_explorer_matches_layer_outputs(model, digits):
    x, y = digits
    fe = FeatureMapExplorer(model, x, y, index=2)
    assert fe.error is None and fe.index == 2
    maps, logits = layer_outputs(model, x)
    np.testing.assert_allclose(fe.maps[0], maps[0][2], rtol=1e-6)
    np.testing.assert_allclose(fe.maps[1], maps[1][2], rtol=1e-6)
    p = np.exp(logits[2] - logits[2].max())
    np.testing.assert_allclose(fe.probs, p / p.sum(), rtol=1e-5)
    assert fe.prediction == int(logits[2].argmax())
    np.testing.assert_array_equal(fe.image, x[2, 0])
    assert "label 2" in fe._label.value and f"predicted <b>{fe.prediction}</b>" in fe._label.value
    assert bytes(fe._view.value).startswith(PNG)


def test_feature_map_explorer_slider_and_figure(model, digits):
    x, y = digits
    fe = FeatureMapExplorer(model, x, y)
    fe.controls["digit"].value = 5
    assert fe.index == 5 and fe.error is None
    axes = fe.figure.axes
    assert len(axes) == 4
    assert axes[1].images[0].get_array().shape == (4 * 27 - 3, 4 * 27 - 3)  # 16 maps 24x24, gaps of 3
    assert axes[2].images[0].get_array().shape == (8 * 9 - 1, 8 * 9 - 1)  # 64 maps 8x8, gaps of 1
    bars = axes[3].patches
    assert len(bars) == 10 and [b.get_height() for b in bars] == pytest.approx(list(fe.probs))
    assert fe.controls["digit"].max == 5 and fe.last_update_seconds < 5


def test_feature_map_explorer_over_a_subset(model, digits):
    x, y = digits
    fe = FeatureMapExplorer(model, x, y, subset=np.array([4, 1, 3]))
    assert fe.index == 4 and fe.controls["digit"].max == 2 and fe.controls["digit"].description == "of subset"
    assert "digit 4 of 6 (number 1 of the 3 in the subset), label 4" in fe._label.value
    fe.controls["digit"].value = 2
    assert fe.index == 3 and fe.error is None
    np.testing.assert_array_equal(fe.image, x[3, 0])
    np.testing.assert_allclose(fe.maps[0], layer_outputs(model, x[3:4])[0][0][0], rtol=1e-6)
    fe = FeatureMapExplorer(model, x, y, index=1, subset=[4, 1, 3])
    assert fe.controls["digit"].value == 1 and fe.index == 1


@pytest.mark.parametrize("subset, index, match", [
    ([], None, "subset must be a non-empty"), ([0, 6], None, "subset must be"), ([[1, 2]], None, "subset must be"),
    ([0.5], None, "subset must be"), ([1, 2], 3, "index must be one of subset")])
def test_feature_map_explorer_bad_subset(model, digits, subset, index, match):
    with pytest.raises(ValueError, match=match):
        FeatureMapExplorer(model, *digits, index=index, subset=np.array(subset))


def test_feature_map_explorer_without_labels(model, digits):
    fe = FeatureMapExplorer(model, digits[0])
    assert fe.error is None and "label" not in fe._label.value
    fe.show_static()


def test_feature_map_explorer_errors_are_shown_not_raised(model, digits, monkeypatch):
    fe = FeatureMapExplorer(model, *digits)
    monkeypatch.setattr(inside_module, "layer_outputs", lambda *a, **k: 1 / 0)
    fe.controls["digit"].value = 1
    assert fe.error.startswith("ZeroDivisionError") and "ZeroDivisionError" in fe._message.value
    monkeypatch.undo()
    fe.controls["digit"].value = 2
    assert fe.error is None


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"images": np.zeros((2, 28, 28))}, ValueError, "images must have shape"),
    ({"images": np.zeros((2, 3, 28, 28))}, ValueError, "images must have shape \\(N, 1, H, W\\)"),
    ({"labels": np.zeros(6)}, ValueError, "labels must be integers of shape \\(6,\\)"),
    ({"index": 6}, ValueError, "index must be <= 5"),
    ({"model": "cnn"}, TypeError, "model must be a Sequential"),
])
def test_feature_map_explorer_bad_arguments(model, digits, kwargs, exc, match):
    args = {"model": model, "images": digits[0], "labels": digits[1], **kwargs}
    with pytest.raises(exc, match=match):
        FeatureMapExplorer(**args)


def test_widgets_are_exported():
    for name in ("FilterHistory", "FeatureMapExplorer", "filter_change", "layer_outputs"):
        assert name in W.__all__ and hasattr(W, name)
    assert isinstance(FilterHistory(RNG.normal(size=(2, 1, 3, 3))).figure, Figure)
