"""The widgets of notebook 08, inside a trained network: the first-layer filters epoch by epoch
(:class:`FilterHistory`) and what every conv layer makes of one digit (:class:`FeatureMapExplorer`).
Their numbers come from two plain functions the notebook checks itself against:
:func:`filter_change` and :func:`layer_outputs`."""
import math

import ipywidgets as ipw
import numpy as np

from .._validate import as_array, as_int, check_ndim
from ..layers import Conv2D, ReLU
from ..plot import mosaic, show_image
from .base import _Widget

__all__ = ["filter_change", "layer_outputs", "FilterHistory", "FeatureMapExplorer"]

_GAP_COLOUR = "0.75"  # the NaN gaps between mosaic tiles


def _as_snapshots(snapshots):
    """(T, F, KH, KW) or (T, F, 1, KH, KW) -> float64 (T, F, KH, KW), T >= 1."""
    s = as_array(snapshots, "snapshots").astype(np.float64)
    if s.ndim == 5 and s.shape[2] == 1:
        s = s[:, :, 0]
    if s.ndim != 4 or s.shape[0] < 1 or s.shape[1] < 1:
        raise ValueError(f"snapshots must have shape (T, F, KH, KW) or (T, F, 1, KH, KW) with T, F >= 1, "
                         f"got {np.shape(snapshots)}")
    return s


def filter_change(snapshots):
    """How far each snapshot of a layer's weights is from the first: ``||w_t - w_0|| / ||w_0||``.

    Parameters
    ----------
    snapshots : ndarray, shape (T, ...), snapshot 0 the initial weights (not all zero)

    Returns
    -------
    change : ndarray, shape (T,), float64; ``change[0] == 0``
    """
    s = as_array(snapshots, "snapshots").astype(np.float64)
    if s.ndim < 2 or len(s) == 0:
        raise ValueError(f"snapshots must have shape (T, ...) with T >= 1, got {s.shape}")
    flat = s.reshape(len(s), -1)  # (T, D)
    norm0 = np.linalg.norm(flat[0])
    if norm0 == 0:
        raise ValueError("snapshots[0] must not be all zero (the change is relative to it)")
    return np.linalg.norm(flat - flat[0], axis=1) / norm0


def _softmax(logits):
    """Row-wise softmax of ``logits`` (N, K) (or (K,)): ``exp(z - max z) / sum exp(z - max z)``."""
    z = as_array(logits, "logits")
    z = z - z.max(axis=-1, keepdims=True)  # the largest exponent is 0: no overflow
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def layer_outputs(model, images, batch_size=250):
    """Run ``images`` through ``model`` (a :class:`~convlib.layers.Sequential`) in test mode, keeping
    the feature maps of every :class:`~convlib.layers.Conv2D` layer.

    Parameters
    ----------
    images : ndarray, shape (N, C, H, W), cast to the model's dtype
    batch_size : int, images per forward pass (bounds the memory the layers keep)

    Returns
    -------
    maps : list of ndarray, one per conv layer in order, shape (N, F, OH, OW): the conv layer's
        output, passed through the :class:`~convlib.layers.ReLU` right after it if there is one
    logits : ndarray, shape (N, K), the model's output
    """
    x = as_array(images, "images")
    check_ndim(x, "images", (4,), "(N, C, H, W)")
    if len(x) == 0:
        raise ValueError(f"images must hold at least one image, got shape {x.shape}")
    layers, batch_size = model.layers, as_int(batch_size, "batch_size", 1)
    keep = [i + 1 if i + 1 < len(layers) and isinstance(layers[i + 1], ReLU) else i
            for i, layer in enumerate(layers) if isinstance(layer, Conv2D)]  # whose output to keep
    maps, logits = [[] for _ in keep], []
    for start in range(0, len(x), batch_size):
        h = x[start:start + batch_size].astype(model.dtype, copy=False)
        for i, layer in enumerate(layers):
            h = layer.forward(h, training=False)
            if i in keep:
                maps[keep.index(i)].append(h)
        logits.append(h)
    return [np.concatenate(m) for m in maps], np.concatenate(logits)


def _kernel_mosaic(ax, tiles, m, ncols, title):
    """Draw (F, KH, KW) tiles as one RdBu mosaic, -m..m (white is 0)."""
    ax.imshow(mosaic(tiles, ncols=ncols), cmap="RdBu_r", vmin=-m, vmax=m, interpolation="nearest")
    ax.set_facecolor(_GAP_COLOUR)
    ax.set(xticks=[], yticks=[], title=title)


class FilterHistory(_Widget):
    """Slider "epoch" (0..T-1) over snapshots of a layer's filters taken during training.

    ``snapshots`` (T, F, KH, KW) or (T, F, 1, KH, KW): snapshot 0 the initial weights, snapshot t
    the weights after epoch t. Drawn: the F filters at that epoch, what training has added to them
    so far (``filters - snapshots[0]``), each on one colour scale for every epoch so that growth is
    visible, and :func:`filter_change` against the epoch. Results: ``epoch``, ``filters`` and
    ``delta`` (F, KH, KW), ``change`` (T,).
    """

    def __init__(self, snapshots, epoch=0, ncols=None):
        self.snapshots = _as_snapshots(snapshots)
        T, F = self.snapshots.shape[:2]
        self.ncols = math.ceil(math.sqrt(F)) if ncols is None else as_int(ncols, "ncols", 1)
        self.change = filter_change(self.snapshots)
        self._scale = float(np.abs(self.snapshots).max()) or 1.0
        self._delta_scale = float(np.abs(self.snapshots - self.snapshots[0]).max()) or 1.0
        epoch = as_int(epoch, "epoch", 0)
        if epoch > T - 1:
            raise ValueError(f"epoch must be <= {T - 1} (there are {T} snapshots), got {epoch}")
        slider = ipw.IntSlider(value=epoch, min=0, max=T - 1, description="epoch")
        self._setup({"epoch": slider}, figsize=(11, 3.6))

    def _compute(self):
        self.epoch = self.controls["epoch"].value
        self.filters = self.snapshots[self.epoch]
        self.delta = self.filters - self.snapshots[0]

    def _plot(self):
        ax = self.figure.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.3]})
        t, F = self.epoch, len(self.filters)
        _kernel_mosaic(ax[0], self.filters, self._scale, self.ncols, f"{F} filters after epoch {t}")
        _kernel_mosaic(ax[1], self.delta, self._delta_scale, self.ncols, "added by training so far")
        epochs = np.arange(len(self.change))
        ax[2].plot(epochs, self.change, "o-", color="C0")
        ax[2].plot([t], [self.change[t]], "o", color="C3", markersize=11)
        ax[2].set(xlabel="epoch", ylabel="‖w − w₀‖ / ‖w₀‖", title="distance from the initialisation")
        ax[2].grid(alpha=0.3)
        self.figure.subplots_adjust(left=0.01, right=0.98, bottom=0.15, top=0.88, wspace=0.25)
        self._label.value = (f"epoch {t} of {len(self.change) - 1}: the filters are "
                             f"<b>{self.change[t]:.1%}</b> of their initial size away from where they started")


class FeatureMapExplorer(_Widget):
    """Slider "digit" over ``images``: the digit, the feature maps of every conv layer of ``model``
    (after its ReLU, see :func:`layer_outputs`) as mosaics, and the model's class probabilities.

    ``model``: a trained :class:`~convlib.layers.Sequential` such as :func:`convlib.train.course_cnn`;
    ``images`` (N, 1, H, W), values in [0, 1]; ``labels`` (N,) ints, optional; ``subset``: indices into ``images`` to
    slide over (say, the misclassified ones), default all; ``index``: the image shown first (in
    ``subset``; default its first). Results: ``index`` (into ``images``), ``image`` (H, W), ``maps``
    (a list of (F, OH, OW) arrays, one per conv layer), ``probs`` (K,), ``prediction``.
    """

    def __init__(self, model, images, labels=None, index=None, subset=None):
        x = as_array(images, "images")
        check_ndim(x, "images", (4,), "(N, 1, H, W)")
        if x.shape[0] < 1 or x.shape[1] != 1:
            raise ValueError(f"images must have shape (N, 1, H, W) with N >= 1, got {x.shape}")
        if labels is not None:
            labels = as_array(labels, "labels")
            if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
                raise ValueError(f"labels must be integers of shape ({len(x)},), got {labels.dtype} of shape "
                                 f"{labels.shape}")
        if not any(isinstance(layer, Conv2D) for layer in getattr(model, "layers", ())):
            raise TypeError(f"model must be a Sequential with at least one Conv2D layer, got {model!r}")
        self.model, self.images, self.labels, self._everything = model, x, labels, subset is None
        if subset is None:
            self.subset = np.arange(len(x))
        else:
            self.subset = as_array(subset, "subset")
            if self.subset.ndim != 1 or len(self.subset) == 0 or self.subset.dtype.kind not in "iu" or \
                    self.subset.min() < 0 or self.subset.max() >= len(x):
                raise ValueError(f"subset must be a non-empty 1-D array of indices in 0..{len(x) - 1}, "
                                 f"got {subset!r}")
        index = int(self.subset[0]) if index is None else as_int(index, "index", 0)
        if index not in self.subset:
            where = f"<= {len(x) - 1}" if subset is None else "one of subset"
            raise ValueError(f"index must be {where}, got {index}")
        slider = ipw.IntSlider(value=int(np.flatnonzero(self.subset == index)[0]), min=0, max=len(self.subset) - 1,
                               description="digit" if subset is None else "of subset", continuous_update=False)
        self._setup({"digit": slider}, figsize=(12, 3.4))

    def _compute(self):
        self.index = int(self.subset[self.controls["digit"].value])
        self.image = self.images[self.index, 0]
        maps, logits = layer_outputs(self.model, self.images[self.index:self.index + 1])
        self.maps = [m[0] for m in maps]
        self.probs = _softmax(logits[0].astype(np.float64))
        self.prediction = int(self.probs.argmax())

    def _plot(self):
        n = len(self.maps)
        axes = self.figure.subplots(1, n + 2, gridspec_kw={"width_ratios": [1] * (n + 1) + [1.4]})
        truth = None if self.labels is None else int(self.labels[self.index])
        head = f"digit {self.index}" + ("" if truth is None else f", label {truth}")
        show_image(self.image, ax=axes[0], negative=True, vmin=0, vmax=1, title=head)
        for k, (ax, m) in enumerate(zip(axes[1:], self.maps)):
            F, OH, OW = m.shape
            tiles = mosaic(m, ncols=math.ceil(math.sqrt(F)), gap=max(1, OH // 8))
            show_image(tiles, ax=ax, cmap="magma", vmin=0, vmax=float(m.max()) or 1.0,
                       title=f"conv {k + 1}: {F} maps {OH}×{OW}")
            ax.set_facecolor(_GAP_COLOUR)
        ax = axes[-1]
        colours = ["C2" if c == truth else ("C3" if c == self.prediction else "C0") for c in range(len(self.probs))]
        ax.bar(np.arange(len(self.probs)), self.probs, color=colours)
        ax.set(ylim=(0, 1.05), xticks=np.arange(len(self.probs)), title=f"predicted {self.prediction} "
               f"({self.probs[self.prediction]:.1%})")
        for a in axes:
            a.title.set_fontsize(10)
        self.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.1, top=0.88, wspace=0.12)
        silent = ", ".join(f"conv {k + 1}: {int((m.max(axis=(1, 2)) == 0).sum())} of {len(m)}"
                           for k, m in enumerate(self.maps))
        verdict = "" if truth is None else (" ✓" if truth == self.prediction else " ✗")
        position = "" if self._everything else \
            f" (number {self.controls['digit'].value + 1} of the {len(self.subset)} in the subset)"
        label = "" if truth is None else f", label {truth}"
        self._label.value = (f"digit {self.index} of {len(self.images)}{position}{label}: predicted "
                             f"<b>{self.prediction}</b> with probability {self.probs[self.prediction]:.1%}{verdict}; "
                             f"maps that stay at 0 everywhere: {silent}")
