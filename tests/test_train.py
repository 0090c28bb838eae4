"""Training: fit on a small subset, determinism, augmentation, confusion matrix, model files,
progress display and the command line."""
import io
import os
import re
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

import convlib.train as train
from convlib.data import load_mnist_sample
from convlib.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from convlib.optim import SGD, Adam
from convlib.train import (confusion_matrix, course_cnn, evaluate, fit, format_confusion, load_model, predict,
                           random_shift, save_model, shift_images)

LAST_LINE = re.compile(r"^held-out accuracy: \d{1,3}\.\d\d% \(\d+ epochs?, \d+\.\d s\)$")


@pytest.fixture(scope="module")
def digits():
    X, y, Xt, yt = load_mnist_sample()
    return X[:192], y[:192], Xt[:200], yt[:200]


def small_cnn(seed):
    rng = np.random.default_rng(seed)
    return Sequential(Conv2D(1, 6, 5, rng=rng), ReLU(), MaxPool2D(4), Flatten(), Dense(6 * 6 * 6, 10, rng=rng))


def test_course_cnn_shapes_and_dtype():
    model = course_cnn(seed=0)
    out = model.forward(np.zeros((3, 1, 28, 28), dtype=np.float32))
    assert out.shape == (3, 10) and out.dtype == np.float32
    assert model.num_params() == 16 * 25 + 16 + 64 * 16 * 25 + 64 + 1024 * 10 + 10 == 36_330
    for a, b in zip(course_cnn(seed=1).params.values(), course_cnn(seed=1).params.values()):
        np.testing.assert_array_equal(a, b)


def test_fit_reduces_the_loss_and_is_deterministic(digits):
    X, y, Xt, yt = digits
    runs = []
    for _ in range(2):
        model = small_cnn(seed=3)
        history = fit(model, X, y, epochs=4, batch_size=32, optimizer=Adam(lr=1e-2), X_val=Xt, y_val=yt,
                      augment=partial(random_shift, max_shift=1), seed=5, progress=False)
        runs.append((history, model))
    (h, model), (h2, model2) = runs
    assert set(h) == {"loss", "train_acc", "val_acc", "seconds"} and all(len(v) == 4 for v in h.values())
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["val_acc"][-1] > 0.6 and all(s > 0 for s in h["seconds"])
    assert h["loss"] == h2["loss"] and h["val_acc"] == h2["val_acc"]
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, model2.params[name])
    loss, acc = evaluate(model, Xt, yt)
    assert acc == h["val_acc"][-1] and loss > 0
    pred = predict(model, Xt, batch_size=7)
    assert pred.shape == (200,) and pred.dtype == np.int64 and np.mean(pred == yt) == acc


def test_fit_runs_in_float64_for_checks_and_honours_a_learning_rate_schedule(digits):
    X, y, _, _ = digits
    model = small_cnn(seed=0).astype(np.float64)
    opt = SGD(lr=0.1, momentum=0.9)
    history = fit(model, X[:64], y[:64], 2, 32, opt, progress=False, lr_schedule=lambda e: 0.05 / (e + 1))
    assert model.dtype == np.float64 and opt.lr == 0.025
    assert np.isnan(history["val_acc"]).all() and np.isfinite(history["loss"]).all()


def test_fit_leaves_a_frozen_layer_unchanged(digits):
    X, y, _, _ = digits
    model = course_cnn(seed=0)
    model.layers[0].freeze()
    first = model.params["0.w"].copy()
    fit(model, X[:64], y[:64], 1, 32, Adam(1e-2), progress=False)
    np.testing.assert_array_equal(model.params["0.w"], first)
    assert not np.array_equal(model.params["3.w"], course_cnn(seed=0).params["3.w"])


def test_shift_images_moves_a_bright_pixel_by_exactly_the_offset():
    images = np.zeros((4, 2, 7, 9), dtype=np.float32)
    images[:, :, 3, 4] = [[1, 2]]
    shifts = np.array([[0, 0], [2, -3], [-3, 1], [1, 4]])
    out = shift_images(images, shifts)
    assert out.shape == images.shape and out.dtype == np.float32
    for n, (dy, dx) in enumerate(shifts):
        expected = np.zeros((2, 7, 9), dtype=np.float32)
        expected[:, 3 + dy, 4 + dx] = [1, 2]
        np.testing.assert_array_equal(out[n], expected)


def test_shift_images_fills_the_uncovered_border_with_zeros():
    images = np.ones((1, 1, 5, 5))
    out = shift_images(images, np.array([[2, -1]]))
    np.testing.assert_array_equal(out[0, 0, :2], 0)
    np.testing.assert_array_equal(out[0, 0, :, 4], 0)
    assert out.sum() == 3 * 4


def test_random_shift_draws_offsets_then_shifts():
    rng = np.random.default_rng(0)
    images = rng.random((50, 1, 8, 8))
    out = random_shift(images, 2, np.random.default_rng(11))
    drawn = np.random.default_rng(11).integers(-2, 3, size=(50, 2))
    assert set(np.unique(drawn)) == {-2, -1, 0, 1, 2}
    np.testing.assert_array_equal(out, shift_images(images, drawn))
    np.testing.assert_array_equal(random_shift(images, 0, rng), images)


def test_confusion_matrix_counts_and_table():
    cm = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]))
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert confusion_matrix(np.array([1]), np.array([1]), num_classes=4).shape == (4, 4)
    lines = format_confusion(cm).splitlines()
    assert len(lines) == 4 and lines[0].split() == ["true\\pred", "0", "1", "2"]
    assert lines[3].split() == ["2", "1", "0", "2"]


def test_save_and_load_round_trip(tmp_path, digits):
    X = digits[0][:20]
    model = course_cnn(seed=1)
    path = tmp_path / "cnn.npz"
    save_model(model, path)
    other = course_cnn(seed=2)
    arrays = {k: v for k, v in other.params.items()}
    assert load_model(path, other) is other
    for name, p in model.params.items():
        np.testing.assert_array_equal(other.params[name], p)
        assert other.params[name] is arrays[name]  # loaded in place
    np.testing.assert_array_equal(predict(other, X), predict(model, X))
    assert os.listdir(tmp_path) == ["cnn.npz"]
    umask = os.umask(0o22)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_load_model_rejects_a_different_architecture_and_changes_nothing(tmp_path):
    path = tmp_path / "small.npz"
    save_model(Sequential(Conv2D(1, 2, 3, rng=0), ReLU(), Flatten(), Dense(2 * 26 * 26, 10, rng=0)), path)
    model = course_cnn(seed=0)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=r"does not match the model: missing parameters \['7.b', '7.w'\], unexpected parameters \[\]"):
        load_model(path, model)
    wider = Sequential(Conv2D(1, 4, 3, rng=0), ReLU(), Flatten(), Dense(2 * 26 * 26, 10, rng=0))
    with pytest.raises(ValueError, match=r"parameter '0.w' has shape \(2, 1, 3, 3\), the model's has \(4, 1, 3, 3\)"):
        load_model(path, wider)
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, before[name])
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_model(3, model)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "cnn.npz"
    save_model(course_cnn(seed=0), path)
    old = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(train.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_model(course_cnn(seed=1), path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["cnn.npz"]


def test_progress_prints_epoch_lines_and_a_text_bar_on_a_terminal(digits, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y, Xt, yt = digits
    fit(course_cnn(0), X[:64], y[:64], 2, 32, Adam(1e-3), Xt[:20], yt[:20], progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2  loss") and "held-out acc" in lines[1]
    assert "\r[" + "#" * 30 + "]" in terminal.getvalue()
    fit(course_cnn(0), X[:64], y[:64], 1, 32, Adam(1e-3), progress=False)
    assert capsys.readouterr().out == ""


def test_progress_uses_a_widget_in_a_notebook(digits, monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display

    shown = []
    monkeypatch.setattr(train, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    X, y, _, _ = digits
    fit(course_cnn(0), X[:64], y[:64], 1, 32, Adam(1e-3), progress=True)
    bar, label = shown[0].children
    assert bar.max == bar.value == 2 and label.value.startswith("epoch 1/1")


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"epochs": 0}, ValueError, r"epochs must be >= 1, got 0"),
    ({"batch_size": 2.5}, TypeError, r"batch_size must be an integer"),
    ({"optimizer": "adam"}, TypeError, r"optimizer must have a step\(params, grads\) method"),
    ({"augment": 2}, TypeError, r"augment must be callable or None, got int"),
    ({"X_val": np.zeros((2, 1, 28, 28))}, ValueError, r"X_val and y_val must be given together"),
    ({"y": np.zeros(3, dtype=int)}, ValueError, r"y must be integer labels of shape \(N,\) = \(4,\)"),
    ({"X": np.zeros((4, 28, 28))}, ValueError, r"X must have shape \(N, C, H, W\)"),
])
def test_fit_bad_input_names_the_argument(kwargs, error, pattern):
    args = dict(model=course_cnn(0), X=np.zeros((4, 1, 28, 28)), y=np.zeros(4, dtype=int), epochs=1, batch_size=2,
                optimizer=SGD(0.1), progress=False)
    with pytest.raises(error, match=pattern):
        fit(**{**args, **kwargs})


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: shift_images(np.zeros((2, 1, 4, 4)), np.zeros((2, 3), dtype=int)), ValueError, r"shifts must be integers of shape \(N, 2\) = \(2, 2\)"),
    (lambda: random_shift(np.zeros((2, 1, 4, 4)), -1, np.random.default_rng()), ValueError, r"max_shift must be >= 0"),
    (lambda: random_shift(np.zeros((2, 1, 4, 4)), 1, 0), TypeError, r"rng must be a numpy.random.Generator"),
    (lambda: confusion_matrix(np.array([0, 1]), np.array([0])), ValueError, r"y_true and y_pred must be integer arrays"),
    (lambda: confusion_matrix(np.array([0, 5]), np.array([0, 1]), num_classes=3), ValueError, r"labels must be in 0..2"),
    (lambda: save_model(course_cnn(0), None), TypeError, r"path must be a str or os.PathLike, got NoneType"),
])
def test_helpers_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_command_line_main_trains_reports_and_saves(tmp_path, capsys):
    out = tmp_path / "cnn.npz"
    assert train.main(["--epochs", "1", "--limit", "128", "--seed", "1", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("training the course CNN (36,330 parameters) on 128 digits")
    assert lines[2].split() == ["true\\pred"] + [str(k) for k in range(10)]
    assert LAST_LINE.match(lines[-1]) and "(1 epoch, " in lines[-1]
    load_model(out, course_cnn(0))


@pytest.mark.parametrize("argv, message", [(["--epochs", "0"], "--epochs must be >= 1, got 0"),
                                           (["--lr", "-1"], "--lr must be > 0"), (["--limit", "x"], "invalid int value")])
def test_command_line_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        train.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "convlib.train", "--epochs", "1", "--limit", "64", "--shift", "0"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("epoch 1/1  loss") and LAST_LINE.match(lines[-1])
