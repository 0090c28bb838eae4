"""The widgets of notebook 05: a pooling explorer (:class:`PoolExplorer`) and the translation
experiment (:class:`ShiftExplorer`): shift a digit and watch a convolution follow it exactly while
stride 2 and 2x2 pooling only follow even shifts. The experiment's pieces are plain functions
(:func:`shift_canvas`, :func:`shift_right`, :func:`pipeline_maps`, :func:`shift_change`) so the
notebook can check its own numbers against them."""
import ipywidgets as ipw
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from .._validate import as_array, as_int
from ..conv import conv2d
from ..filters import diagonal_edge
from ..plot import _to_hwc, show_image
from ..pool import POOL_MODES, pool2d
from ..windows import sliding_windows
from .base import _choice, _first_digit, _slider, _Widget

__all__ = ["PIPELINES", "shift_canvas", "shift_right", "pipeline_maps", "shift_change",
           "PoolExplorer", "ShiftExplorer"]

PIPELINES = ("conv", "conv, stride 2", "conv + max-pool 2", "conv + mean-pool 2")


def _default_map():
    """ReLU of the first 7 of the MNIST sample filtered by the 5x5 diagonal edge: shape (24, 24)."""
    return np.maximum(conv2d(_first_digit()[None, None], diagonal_edge(5)[None, None])[0, 0], 0.0)


def shift_canvas(images, shift, margin=8):
    """Place ``images`` (..., H, W) in a zero canvas (..., H + 2*margin, W + 2*margin), at rows
    ``margin ..`` and columns ``margin + shift ..``: a shift right by ``shift`` pixels that never
    wraps around (``0 <= shift <= margin``)."""
    x = as_array(images, "images")
    m = as_int(margin, "margin", 0)
    s = as_int(shift, "shift", 0)
    if s > m:
        raise ValueError(f"shift must be <= margin={m} so nothing leaves the canvas, got {s}")
    H, W = x.shape[-2:]
    out = np.zeros(x.shape[:-2] + (H + 2 * m, W + 2 * m), dtype=np.float64)
    out[..., m:m + H, m + s:m + s + W] = x
    return out


def shift_right(a, s):
    """``a`` (..., H, W) moved ``s >= 0`` columns right; zeros come in on the left, the last ``s``
    columns fall off the right."""
    a, s = np.asarray(a), as_int(s, "s", 0)
    out = np.zeros_like(a)
    out[..., s:] = a[..., :a.shape[-1] - s]
    return out


def pipeline_maps(x, w):
    """The four outputs the translation experiment compares, each after a ReLU.

    x : ndarray, shape (N, 1, H, W); w : ndarray, shape (F, 1, KH, KW).
    Returns dict :data:`PIPELINES` name -> ndarray: "conv" (N, F, OH, OW) with ``OH = H - KH + 1``;
    "conv, stride 2" the same map keeping every second row and column; "conv + max-pool 2" and
    "conv + mean-pool 2" the map pooled over 2x2 blocks (``OH // 2`` rows).
    """
    fmap = np.maximum(conv2d(x, w), 0.0)  # (N, F, OH, OW)
    return {"conv": fmap, "conv, stride 2": np.maximum(conv2d(x, w, stride=2), 0.0),
            "conv + max-pool 2": pool2d(fmap, 2, mode="max"), "conv + mean-pool 2": pool2d(fmap, 2, mode="mean")}


def shift_change(out, ref, shifts=(0,)):
    """Relative L2 change ``min_s ||out - shift_right(ref, s)|| / ||ref||`` over ``s`` in ``shifts``.

    With ``shifts=(0,)`` it measures how much the output changed at the same positions (invariance);
    with ``shifts=range(k + 1)`` how far it is from the best-aligned shifted copy (equivariance).
    Returns (change, best s), a float and an int (the first best s).
    """
    out, ref = np.asarray(out, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        raise ValueError(f"out and ref must have one shape, got {out.shape} and {ref.shape}")
    norm = np.linalg.norm(ref) or 1.0
    errors = [np.linalg.norm(out - shift_right(ref, s)) / norm for s in shifts]
    best = int(np.argmin(errors))
    return float(errors[best]), int(list(shifts)[best])


class PoolExplorer(_Widget):
    """Pool a feature map; sliders "pool size", "stride" and buttons "mode" (max, mean, sum).

    ``image`` (H, W) defaults to a 24x24 map (ReLU of the first 7 filtered by a 5x5 diagonal edge).
    Draws the map with every window outlined (window (0, 0) thick; with "max", a dot on each
    window's winner) and the pooled output. Results: ``output`` (OH, OW), exactly
    ``pool2d(image[None, None], pool_size, stride, mode)[0, 0]`` with ``OH = (H - pool_size) // stride + 1``;
    ``winners`` (OH, OW, 2) row and column of each window's (first) maximum; ``kept = OH*OW / (H*W)``.
    """

    def __init__(self, image=None, pool_size=2, stride=2, mode="max"):
        self.image = _to_hwc(_default_map() if image is None else image, "image")
        if self.image.ndim != 2:
            raise ValueError(f"image must be grey, shape (H, W) or (1, H, W), got {np.shape(image)}")
        side = min(self.image.shape)
        modes = ipw.ToggleButtons(options=list(POOL_MODES), value=_choice(mode, "mode", POOL_MODES),
                                  description="mode", style={"button_width": "60px"})
        self._setup({"pool_size": _slider(pool_size, side, "pool size"), "stride": _slider(stride, side, "stride"),
                     "mode": modes}, figsize=(9, 4.4))

    def _compute(self):
        k, s, mode = (self.controls[n].value for n in ("pool_size", "stride", "mode"))
        self.output = pool2d(self.image[None, None], k, s, mode)[0, 0]  # (OH, OW)
        win = sliding_windows(self.image[None, None], k, s)[0, 0]  # (OH, OW, k, k), a view
        OH, OW = self.output.shape
        a = win.reshape(OH, OW, k * k).argmax(axis=-1)  # first maximum, row by row, as pool2d_backward
        i, j = np.indices((OH, OW))
        self.winners = np.stack([i * s + a // k, j * s + a % k], axis=-1)  # (OH, OW, 2)
        self.kept = self.output.size / self.image.size

    def _plot(self):
        k, s, mode = (self.controls[n].value for n in ("pool_size", "stride", "mode"))
        (H, W), (OH, OW) = self.image.shape, self.output.shape
        ax0, ax1 = self.figure.subplots(1, 2)
        lo, hi = float(self.image.min()), float(self.image.max())
        show_image(self.image, ax=ax0, vmin=lo, vmax=hi, title=f"feature map {H}×{W}, {OH * OW} windows of {k}×{k}")
        boxes = [Rectangle((j * s - 0.5, i * s - 0.5), k, k) for i in range(OH) for j in range(OW)]
        ax0.add_collection(PatchCollection(boxes, facecolor="none", edgecolor="#4a90d9", lw=0.7, alpha=0.8))
        ax0.add_patch(Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor="#e8743b", lw=2.5))
        if mode == "max":  # the winner of every window that is not flat (a flat window has no winner to show)
            win = sliding_windows(self.image[None, None], k, s)[0, 0]  # (OH, OW, k, k)
            keep = win.max(axis=(2, 3)) > win.min(axis=(2, 3))
            ax0.scatter(self.winners[keep][:, 1], self.winners[keep][:, 0], s=8, color="#e8743b", zorder=3)
        out_lo, out_hi = (lo, hi) if mode != "sum" else (float(self.output.min()), float(self.output.max()))
        show_image(self.output, ax=ax1, vmin=out_lo, vmax=out_hi, title=f"{mode}-pooled {OH}×{OW}")
        ax1.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="#e8743b", lw=2.5))
        if max(H, W) <= 10:  # small maps: write the numbers in
            for ax, a in ((ax0, self.image), (ax1, self.output)):
                for (r, c), v in np.ndenumerate(a):
                    ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=9, color="#c03000")
        self.figure.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=0.9, wspace=0.08)
        self._label.value = (f"{mode} pooling, {k}×{k} windows, stride {s}: {H}×{W} → <b>{OH}×{OW}</b>, "
                             f"keeps {self.output.size} of {self.image.size} numbers ({100 * self.kept:.1f}%)")


class ShiftExplorer(_Widget):
    """Slider "shift" (0..``max_shift``) moves a digit right in a zero canvas (margin ``max_shift + 2``);
    the four :data:`PIPELINES` maps are redrawn and compared with those of the unshifted digit.

    ``image`` (H, W) defaults to the first 7 of the MNIST sample; ``kernel`` (KH, KW) to the 5x5 diagonal
    edge. Results: ``canvas`` (H + 2m, W + 2m); ``outputs`` and ``reference`` (shift 0), dicts name ->
    2-D map; ``errors`` name -> {"change": :func:`shift_change` at the same positions, "aligned": the
    best over output shifts 0..shift, "best_shift": that shift}.
    """

    def __init__(self, image=None, kernel=None, shift=0, max_shift=6):
        self.image = _to_hwc(_first_digit() if image is None else image, "image")
        if self.image.ndim != 2:
            raise ValueError(f"image must be grey, shape (H, W) or (1, H, W), got {np.shape(image)}")
        k = diagonal_edge(5) if kernel is None else as_array(kernel, "kernel").astype(np.float64)
        if k.ndim != 2:
            raise ValueError(f"kernel must have shape (KH, KW), got {k.shape}")
        self.kernel, self.margin = k, as_int(max_shift, "max_shift", 1) + 2
        self.reference = self._maps(0)
        slider = ipw.IntSlider(value=as_int(shift, "shift", 0), min=0, max=self.margin - 2, description="shift")
        self._setup({"shift": slider}, figsize=(12, 3.0))

    def _maps(self, shift):
        x = shift_canvas(self.image, shift, self.margin)[None, None]  # (1, 1, H + 2m, W + 2m)
        return {name: m[0, 0] for name, m in pipeline_maps(x, self.kernel[None, None]).items()}

    def _compute(self):
        k = self.controls["shift"].value
        self.canvas = shift_canvas(self.image, k, self.margin)
        self.outputs = self._maps(k)
        self.errors = {}
        for name in PIPELINES:
            change, _ = shift_change(self.outputs[name], self.reference[name])
            aligned, best = shift_change(self.outputs[name], self.reference[name], range(k + 1))
            self.errors[name] = {"change": change, "aligned": aligned, "best_shift": best}

    def _plot(self):
        k = self.controls["shift"].value
        axes = self.figure.subplots(1, 5)
        show_image(self.canvas, ax=axes[0], negative=True, vmin=0, vmax=1, title=f"digit shifted {k} px")
        hi = float(self.reference["conv"].max()) or 1.0
        for ax, name in zip(axes[1:], PIPELINES):
            e = self.errors[name]
            show_image(self.outputs[name], ax=ax, cmap="magma", vmin=0, vmax=hi,
                       title=f"{name}\nchange {e['change']:.2f}, aligned {e['aligned']:.2f}")
            ax.title.set_fontsize(9)
        self.figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.86, wspace=0.06)
        rows = "".join(f"<tr><td>{n}</td><td>{e['change']:.3f}</td><td>{e['aligned']:.3f}</td>"
                       f"<td>{e['best_shift']}</td></tr>" for n, e in self.errors.items())
        self._label.value = (f"shift {k} px. Relative L2 change from the unshifted output: at the same positions, "
                             f"and after the best shift of the output by 0..{k} pixels:<table><tr><th>output</th>"
                             f"<th>change</th><th>aligned</th><th>best shift</th></tr>{rows}</table>")
