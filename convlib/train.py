"""Training loop, evaluation, augmentation and model files; the course CNN and its command line.

Notebook 07 trains :func:`course_cnn` on the bundled digits with :func:`fit`; notebook 08 looks at
what it learned. From a shell, ``python -m convlib.train --out cnn.npz`` runs the same recipe
(:data:`COURSE_RECIPE`) and ends with the line ``held-out accuracy: XX.XX% (N epochs, T.T s)``.
Training runs in the model's dtype, float32 from :func:`course_cnn` (``model.astype(np.float64)``
for gradient checks): :func:`fit` casts each minibatch to it.
"""
import argparse
import math
import os
import sys
import tempfile
import time
from functools import partial

import numpy as np

from ._validate import as_array, as_int, check_ndim
from .layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, softmax_cross_entropy
from .optim import Adam, cosine_schedule
from .windows import pad2d

__all__ = ["COURSE_RECIPE", "course_cnn", "fit", "evaluate", "predict", "confusion_matrix", "format_confusion",
           "shift_images", "random_shift", "save_model", "load_model", "main"]

# How the course CNN is trained (notebook 07, the command line): Adam, its learning rate falling
# along a cosine over the epochs, every batch shifted randomly by up to 2 pixels.
COURSE_RECIPE = {"epochs": 12, "batch_size": 32, "lr": 2e-3, "max_shift": 2}


def course_cnn(seed=0, dtype=np.float32):
    """The CNN of notebook 07, the command line and the benchmarks: (N, 1, 28, 28) -> (N, 10) logits.

    conv 16@5x5 -> ReLU -> max-pool 2 -> conv 64@5x5 -> ReLU -> max-pool 2 -> flatten -> dense 10.
    Shapes: (N,1,28,28) -> (N,16,24,24) -> (N,16,12,12) -> (N,64,8,8) -> (N,64,4,4) -> (N,1024) -> (N,10).
    He-initialised (Glorot for the last layer) from ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(as_int(seed, "seed", 0))
    return Sequential(
        Conv2D(1, 16, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),
        Conv2D(16, 64, 5, rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),
        Flatten(), Dense(64 * 4 * 4, 10, rng=rng, dtype=dtype))


def _check_data(X, y, nx="X", ny="y"):
    X, y = as_array(X, nx), as_array(y, ny)
    check_ndim(X, nx, (4,), "(N, C, H, W)")
    if len(X) == 0 or y.shape != (X.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(f"{ny} must be integer labels of shape (N,) = ({X.shape[0]},) with N >= 1, "
                         f"got {y.dtype} of shape {y.shape}")
    return X, y


def _logits(model, X, batch_size):
    batches = range(0, len(X), as_int(batch_size, "batch_size", 1))
    return np.concatenate([model.forward(X[i:i + batch_size].astype(model.dtype, copy=False)) for i in batches])


def predict(model, X, batch_size=500):
    """Predicted classes, int64 of shape (N,), for images X of shape (N, C, H, W), N >= 1 (test mode)."""
    X = as_array(X, "X")
    check_ndim(X, "X", (4,), "(N, C, H, W)")
    if len(X) == 0:
        raise ValueError(f"X must hold at least one image, got shape {X.shape}")
    return _logits(model, X, batch_size).argmax(axis=1).astype(np.int64)


def evaluate(model, X, y, batch_size=500):
    """Mean cross-entropy loss and accuracy in [0, 1] of ``model`` on X (N, C, H, W), y (N,)."""
    X, y = _check_data(X, y)
    logits = _logits(model, X, batch_size)  # (N, K)
    return softmax_cross_entropy(logits, y)[0], float(np.mean(logits.argmax(axis=1) == y))


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts ``cm[t, p]`` of samples of true class t predicted as p: shape (K, K), int64.

    y_true, y_pred : int arrays of shape (N,); ``K = num_classes``, default ``1 + max(y_true, y_pred)``.
    """
    t, p = as_array(y_true, "y_true"), as_array(y_pred, "y_pred")
    if t.ndim != 1 or p.shape != t.shape or t.dtype.kind not in "iu" or p.dtype.kind not in "iu":
        raise ValueError(f"y_true and y_pred must be integer arrays of one shape (N,), got {t.shape} and {p.shape}")
    if num_classes is None:
        K = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    else:
        K = as_int(num_classes, "num_classes", 1)
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= K):
        raise ValueError(f"labels must be in 0..{K - 1} for num_classes={K}")
    return np.bincount(K * t.astype(np.int64) + p, minlength=K * K).reshape(K, K)


def format_confusion(cm):
    """The (K, K) confusion matrix as a text table: one row per true class, one column per prediction."""
    K, width = len(cm), max(4, len(str(int(np.max(cm, initial=0)))) + 1)
    head = "true\\pred" + "".join(f"{k:>{width}}" for k in range(K))
    return "\n".join([head] + [f"{t:>9}" + "".join(f"{int(c):>{width}}" for c in cm[t]) for t in range(K)])


def shift_images(images, shifts):
    """Move each image by its own whole-pixel offset, filling the uncovered border with zeros.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W)
    shifts : int ndarray, shape (N, 2), rows (dy, dx): down and right by dy, dx pixels (negative: up, left)

    Returns
    -------
    out : ndarray, shape (N, C, H, W), images' dtype, ``out[n, :, i, j] = images[n, :, i - dy, j - dx]``
    """
    images, shifts = as_array(images, "images"), as_array(shifts, "shifts")
    check_ndim(images, "images", (4,), "(N, C, H, W)")
    N, C, H, W = images.shape
    if shifts.shape != (N, 2) or shifts.dtype.kind not in "iu":
        raise ValueError(f"shifts must be integers of shape (N, 2) = ({N}, 2), "
                         f"got {shifts.dtype} of shape {shifts.shape}")
    m = int(np.abs(shifts).max(initial=0))
    padded = pad2d(images, m)  # (N, C, H + 2m, W + 2m)
    rows = np.arange(H) - shifts[:, :1] + m  # (N, H): the padded row each output row reads
    cols = np.arange(W) - shifts[:, 1:] + m  # (N, W)
    n, c = np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]  # (N, C, H, W), one gather


def random_shift(images, max_shift, rng):
    """Augmentation: shift each image (N, C, H, W) by random (dy, dx) in -max_shift..max_shift.

    The offsets are ``rng.integers(-max_shift, max_shift + 1, size=(N, 2))``, then :func:`shift_images`.
    Pass it to :func:`fit` as ``augment=functools.partial(random_shift, max_shift=2)``.
    """
    max_shift = as_int(max_shift, "max_shift", 0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    images = as_array(images, "images")
    check_ndim(images, "images", (4,), "(N, C, H, W)")
    return shift_images(images, rng.integers(-max_shift, max_shift + 1, size=(images.shape[0], 2)))


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return hasattr(get_ipython(), "kernel")  # a terminal IPython has no kernel; plain Python gives None


class _Progress:
    """An ipywidgets bar in a notebook, else a one-line text bar if stderr is a terminal;
    ``line`` prints an epoch summary to stdout. Silent when not enabled."""

    def __init__(self, total, enabled):
        self.total, self.enabled, self.widget, self.last = total, enabled, None, 0.0
        if enabled and _in_notebook():  # ipywidgets is a dependency of convlib; IPython comes with it
            from IPython.display import display
            from ipywidgets import HBox, IntProgress, Label
            self.widget = (IntProgress(min=0, max=total), Label())
            display(HBox(list(self.widget)))
        self.tty = enabled and self.widget is None and sys.stderr.isatty()

    def update(self, done, text):
        if self.widget is not None:
            self.widget[0].value, self.widget[1].value = done, text
        elif self.tty and (time.perf_counter() - self.last > 0.1 or done == self.total):
            self.last, filled = time.perf_counter(), 30 * done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {text}\033[K")
            sys.stderr.flush()

    def line(self, text):
        if self.tty:
            sys.stderr.write("\r\033[K")  # clear the bar; the summary takes its place
        if self.enabled:
            print(text, flush=True)


def fit(model, X, y, epochs, batch_size, optimizer, X_val=None, y_val=None, augment=None, seed=0,
        progress=True, lr_schedule=None):
    """Train ``model`` by minibatch gradient descent on softmax cross-entropy.

    Parameters
    ----------
    model : Sequential (anything with forward, backward, params, grads and dtype)
    X : ndarray, shape (N, C, H, W); y : int ndarray, shape (N,)
    epochs, batch_size : int; an epoch visits a fresh permutation of X in ceil(N / batch_size) steps
    optimizer : a :mod:`convlib.optim` optimizer, called as ``optimizer.step(model.params, model.grads)``
    X_val, y_val : held-out data, shapes (M, C, H, W) and (M,), evaluated after every epoch
    augment : callable, optional, ``augment(images, rng=rng)`` -> images (e.g. :func:`random_shift`)
    seed : int, seeds the generator of the batch order and of ``augment``
    progress : bool, show a progress bar and print one line per epoch
    lr_schedule : callable, optional, ``lr_schedule(epoch)`` -> the learning rate of that (0-based) epoch

    Returns
    -------
    history : dict of lists, one entry per epoch: "loss" (mean training loss), "train_acc" (on the
        training batches as they were seen, augmented), "val_acc" (nan without X_val), "seconds"
        (wall time of the epoch, validation included)
    """
    X, y = _check_data(X, y)
    epochs, batch_size = as_int(epochs, "epochs", 1), as_int(batch_size, "batch_size", 1)
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if X_val is not None:
        X_val, y_val = _check_data(X_val, y_val, "X_val", "y_val")
    for name, f in (("augment", augment), ("lr_schedule", lr_schedule)):
        if f is not None and not callable(f):
            raise TypeError(f"{name} must be callable or None, got {type(f).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    rng = np.random.default_rng(as_int(seed, "seed", 0))
    N, steps = len(X), math.ceil(len(X) / batch_size)
    history = {"loss": [], "train_acc": [], "val_acc": [], "seconds": []}
    bar = _Progress(epochs * steps, progress)
    for epoch in range(epochs):
        start = time.perf_counter()
        if lr_schedule is not None:
            optimizer.lr = float(lr_schedule(epoch))
        order, total_loss, correct = rng.permutation(N), 0.0, 0
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            xb, yb = X[idx].astype(model.dtype, copy=False), y[idx]  # (B, C, H, W), (B,)
            if augment is not None:
                xb = augment(xb, rng=rng)
            logits = model.forward(xb, training=True)  # (B, K)
            loss, dlogits = softmax_cross_entropy(logits, yb)
            model.backward(dlogits, need_dx=False)
            optimizer.step(model.params, model.grads)
            total_loss, correct = total_loss + loss * len(idx), correct + int(np.sum(logits.argmax(axis=1) == yb))
            seen = min(N, (step + 1) * batch_size)
            bar.update(epoch * steps + step + 1, f"epoch {epoch + 1}/{epochs}  loss {total_loss / seen:.4f}")
        val_acc = evaluate(model, X_val, y_val)[1] if X_val is not None else float("nan")
        for key, value in zip(history, (total_loss / N, correct / N, val_acc, time.perf_counter() - start)):
            history[key].append(value)
        held_out = f"  held-out acc {val_acc:6.2%}" if X_val is not None else ""
        bar.line(f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}  loss {total_loss / N:.4f}  "
                 f"train acc {correct / N:6.2%}{held_out}  ({history['seconds'][-1]:.1f} s)")
    return history


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def save_model(model, path):
    """Write ``model.params`` to the .npz file ``path`` atomically: a temporary file in the same
    folder is written in full, then renamed over ``path``; on failure nothing is left behind."""
    path = _check_path(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".convlib-", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **model.params)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0o22)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the model private
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_model(path, model):
    """Load parameters saved by :func:`save_model` into ``model`` (same architecture), in place.

    Every name and shape is checked before anything is written; values are cast to each
    parameter's dtype. Returns the model.
    """
    path, params = _check_path(path), model.params
    with np.load(path, allow_pickle=False) as archive:
        saved = {k: archive[k] for k in archive.files}
    missing, extra = sorted(set(params) - set(saved)), sorted(set(saved) - set(params))
    if missing or extra:
        raise ValueError(f"{path} does not match the model: missing parameters {missing}, "
                         f"unexpected parameters {extra}")
    for k, v in saved.items():
        if v.shape != params[k].shape:
            raise ValueError(f"{path}: parameter {k!r} has shape {v.shape}, the model's has {params[k].shape}")
    for k, v in saved.items():
        params[k][...] = v
    return model


def main(argv=None):
    """``python -m convlib.train``: train the course CNN on the bundled digits and report."""
    from .data import load_mnist_sample
    r = COURSE_RECIPE
    p = argparse.ArgumentParser(prog="python -m convlib.train", description=main.__doc__.split(": ")[1])
    p.add_argument("--epochs", type=int, default=r["epochs"], help=f"passes over the digits (default {r['epochs']})")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, batch order and shifts (default 0)")
    p.add_argument("--out", help="save the trained model to this .npz file")
    p.add_argument("--limit", type=int, help="train on the first LIMIT training digits only (a quick run)")
    p.add_argument("--batch-size", type=int, default=r["batch_size"],
                   help=f"minibatch size (default {r['batch_size']})")
    p.add_argument("--lr", type=float, default=r["lr"], help=f"Adam's initial learning rate (default {r['lr']:g})")
    p.add_argument("--shift", type=int, default=r["max_shift"],
                   help=f"random shifts of up to SHIFT pixels (default {r['max_shift']})")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no per-epoch lines")
    args = p.parse_args(argv)
    for name, low in (("epochs", 1), ("seed", 0), ("limit", 1), ("batch_size", 1), ("shift", 0)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            p.error(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(args, name)}")
    if not args.lr > 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    X_train, y_train, X_test, y_test = load_mnist_sample()
    X_train, y_train = X_train[:args.limit], y_train[:args.limit]
    model = course_cnn(args.seed)
    print(f"training the course CNN ({model.num_params():,} parameters) on {len(X_train):,} digits, "
          f"testing on {len(X_test):,}")
    start = time.perf_counter()
    fit(model, X_train, y_train, args.epochs, args.batch_size, Adam(lr=args.lr), X_test, y_test,
        augment=partial(random_shift, max_shift=args.shift) if args.shift else None, seed=args.seed,
        progress=not args.quiet, lr_schedule=cosine_schedule(args.lr, args.epochs))
    seconds = time.perf_counter() - start
    pred = predict(model, X_test)
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(format_confusion(confusion_matrix(y_test, pred, num_classes=10)))
    if args.out:
        save_model(model, args.out)
        print(f"saved the model to {args.out}")
    epochs = f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}"
    print(f"held-out accuracy: {np.mean(pred == y_test):.2%} ({epochs}, {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
