"""The widgets of notebook 01: how many weights a layer needs (:class:`WeightCounter`) and a digit cut
into patches (:class:`PatchExplorer`)."""
import ipywidgets as ipw
import numpy as np

from .._validate import as_int
from ..plot import _to_hwc, mosaic, show_image, show_windows
from ..windows import make_patches, output_size
from .base import _choice, _first_digit, _slider, _Widget

__all__ = ["count_weights", "PatchExplorer", "WeightCounter"]

_SCHEMES = {"fully_connected": "fully connected", "one_patch": "one patch per unit",
            "shared": "shared over every patch", "locally_connected": "own weights at every patch"}


def count_weights(image_size=28, patch_size=10, stride=1, units=20, n_classes=10):
    """First-layer weights (with biases) and outputs of ``units`` units, four ways.

    With ``P = output_size(image_size, patch_size, stride)`` and ``u = patch_size**2 + 1``:
    ``fully_connected`` has ``units*(image_size**2 + 1)`` weights and ``units`` outputs; ``one_patch``
    (each unit sees one patch) ``units*u`` and ``units``; ``shared`` (each unit slid over all P*P
    positions: a convolution) ``units*u`` and ``units*P*P``; ``locally_connected`` (a fresh unit at
    every position) ``units*P*P*u`` and ``units*P*P``. Returns dict scheme -> {"weights", "outputs",
    "total"} (ints), ``total = weights + outputs*n_classes + n_classes`` (15,910 and 2,230 here).
    """
    n, p = as_int(image_size, "image_size", 1), as_int(patch_size, "patch_size", 1)
    units, n_classes = as_int(units, "units", 1), as_int(n_classes, "n_classes", 1)
    P = output_size(n, p, as_int(stride, "stride", 1))
    unit, maps = p * p + 1, units * P * P  # weights of one unit; outputs when slid over every patch
    first = {"fully_connected": (units * (n * n + 1), units), "one_patch": (units * unit, units),
             "shared": (units * unit, maps), "locally_connected": (maps * unit, maps)}
    return {k: {"weights": w, "outputs": o, "total": w + o * n_classes + n_classes}
            for k, (w, o) in first.items()}


class PatchExplorer(_Widget):
    """Cut a grey image into patches; patch-size and stride sliders redraw the windows and patches.

    ``image`` (H, W) or (1, H, W) defaults to the first 7 of the MNIST sample; ``negative`` draws dark
    ink on a light page; ``scale`` "shared" gives all patches one grey scale, "each" its own. Results:
    ``patches``, a view (OH, OW, patch_size, patch_size) from ``make_patches(image[None], ...)[0]``;
    ``count = OH * OW``, ``OH = (H - patch_size) // stride + 1``; ``uncovered`` (rows, cols) at the edge.
    """

    def __init__(self, image=None, patch_size=7, stride=7, negative=True, scale="shared"):
        self.image = _to_hwc(_first_digit() if image is None else image, "image")
        if self.image.ndim != 2:
            raise ValueError(f"image must be grey, shape (H, W) or (1, H, W), got {np.shape(image)}")
        side, self.negative = min(self.image.shape), bool(negative)
        scale = ipw.ToggleButtons(options=["shared", "each"], value=_choice(scale, "scale", ("shared", "each")),
                                  description="scale")
        self._setup({"patch_size": _slider(patch_size, side, "patch size"),
                     "stride": _slider(stride, side, "stride"), "scale": scale}, figsize=(9, 4.5))

    def _compute(self):
        p, s = self.controls["patch_size"].value, self.controls["stride"].value
        self.patches = make_patches(self.image[None], p, s)[0]  # (OH, OW, p, p), a view
        OH, OW = self.patches.shape[:2]
        self.count = OH * OW
        self.uncovered = (self.image.shape[0] - (OH - 1) * s - p, self.image.shape[1] - (OW - 1) * s - p)

    def _plot(self):
        (OH, OW, p, _), s = self.patches.shape, self.controls["stride"].value
        ax0, ax1 = self.figure.subplots(1, 2)
        show_windows(self.image, p, s, ax=ax0, negative=self.negative,
                     positions="all" if self.count <= 49 else None)
        scale = self.controls["scale"].value
        lo, hi = (0.0, 1.0) if scale == "each" else (self.image.min(), self.image.max())
        show_image(mosaic(self.patches, OW, max(1, p // 7), scale), ax=ax1, negative=self.negative,
                   vmin=lo, vmax=hi, title=f"{self.count} patches ({OH}x{OW})")
        ax1.set_facecolor("#b8c4d0")  # the gaps between patches (NaN in the mosaic)
        self._label.value = (f"<b>{self.count}</b> patches ({OH} × {OW}) of {p}×{p}, stride {s}; left "
                             f"uncovered: {self.uncovered[0]} rows, {self.uncovered[1]} columns")


class WeightCounter(_Widget):
    """Patch size, stride and units sliders -> ``counts``, the dict :func:`count_weights` returns for
    an ``image_size``-square input and ``n_classes`` classes, drawn as a log-scale bar chart."""

    def __init__(self, image_size=28, patch_size=10, stride=1, units=20, n_classes=10):
        self.image_size, self.n_classes = as_int(image_size, "image_size", 1), as_int(n_classes, "n_classes", 1)
        self._setup({"patch_size": _slider(patch_size, self.image_size, "patch size"),
                     "stride": _slider(stride, self.image_size, "stride"),
                     "units": _slider(units, 100, "units")}, figsize=(9, 3.8))

    def _compute(self):
        p, s, u = (self.controls[k].value for k in ("patch_size", "stride", "units"))
        self.counts = count_weights(self.image_size, p, s, u, self.n_classes)

    def _plot(self):
        ax, y = self.figure.add_subplot(), np.arange(len(self.counts))
        for offset, key in ((-0.2, "weights"), (0.2, "outputs")):
            values = [v[key] for v in self.counts.values()]
            bars = ax.barh(y + offset, values, height=0.4, label=f"first-layer {key}")
            ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=9)
        ax.set(xscale="log", xlim=(0.8, 30 * max(v["weights"] for v in self.counts.values())))
        ax.set_yticks(y, [f"{_SCHEMES[k]}\n(total {v['total']:,})" for k, v in self.counts.items()])
        ax.invert_yaxis()
        ax.legend(loc="upper right")
        ax.set_title(f"{self.image_size}x{self.image_size} input; totals add a {self.n_classes}-class layer",
                     fontsize=10)
        self.figure.subplots_adjust(left=0.25, right=0.98, top=0.9)
