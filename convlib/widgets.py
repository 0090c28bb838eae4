"""Widgets for notebook 01 (:class:`WeightCounter`, :class:`PatchExplorer`) and 02 (:class:`KernelEditor`).

Each has ``controls`` (name -> ipywidget; setting ``.value`` recomputes through the observer a drag
triggers, so tests need no browser), ``widget`` (shown by evaluating the object), ``update()``, its
results as attributes, ``error`` (callbacks never raise: failures are shown in the widget and stored
here), and ``figure`` / ``show_static()`` for a PNG that survives on GitHub and nbviewer.
"""
import html
import io
import math
import time

import ipywidgets as ipw
import numpy as np
from IPython.display import Image, display
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL.Image import fromarray

from . import filters
from ._validate import as_int
from .conv import conv2d
from .data import load_mnist_sample
from .plot import _to_hwc, load_photo, mosaic, show_image, show_kernel, show_windows
from .windows import make_patches, output_size

__all__ = ["PRESETS", "preset_kernel", "count_weights", "KernelEditor", "PatchExplorer", "WeightCounter"]

PRESETS = ("identity", "box blur", "gaussian blur", "sharpen", "laplacian", "sobel x", "sobel y",
           "emboss", "outline", "diagonal edge")
_SCHEMES = {"fully_connected": "fully connected", "one_patch": "one patch per unit",
            "shared": "shared over every patch", "locally_connected": "own weights at every patch"}


def preset_kernel(name, size=3):
    """The (size, size) kernel preset ``name`` fills in (``size`` odd, >= 3). "box blur", "gaussian blur"
    (sigma 1) and "diagonal edge" are built at ``size``; 3x3 presets are zero-padded into the centre."""
    if name not in PRESETS:
        raise ValueError(f"name must be one of {PRESETS}, got {name!r}")
    size = as_int(size, "size", 3)
    if size % 2 == 0:
        raise ValueError(f"size must be odd so the kernel has a centre, got {size}")
    sized = {"box blur", "gaussian blur", "diagonal edge"}
    k = filters.kernel(name.replace(" ", "_"), *([size] if name in sized else []))
    return np.pad(k, (size - k.shape[0]) // 2)


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


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _array_png(img, lo, hi, min_side=240):
    """(H, W) or (3, H, W) -> PNG bytes drawing lo..hi as black..white; small images enlarged."""
    x = img if img.ndim == 2 else img.transpose(1, 2, 0)  # (H, W) or (H, W, 3)
    u8 = np.clip((x - lo) * (255.0 / (hi - lo if hi > lo else 1.0)), 0, 255).round().astype(np.uint8)
    f = max(1, min_side // max(x.shape[:2]))
    buf = io.BytesIO()
    fromarray(u8.repeat(f, axis=0).repeat(f, axis=1)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _kernel_png(k, side=160):
    """(K, K) -> PNG bytes of a heat map centred on zero (RdBu_r, as :func:`show_kernel`), no text."""
    m = float(np.abs(k).max()) or 1.0
    rgb = colormaps["RdBu_r"]((k / m + 1) / 2)[..., :3]  # (K, K, 3), values 0..1
    return _array_png(rgb.transpose(2, 0, 1), 0.0, 1.0, min_side=side)


def _first_digit(label=7):
    """The first training digit of class ``label`` in the bundled MNIST sample, shape (28, 28)."""
    X, y, _, _ = load_mnist_sample()
    return X[np.flatnonzero(y == label)[0], 0]


def _choice(value, name, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


class _Widget:
    """Plumbing shared by the widgets: observers, errors shown instead of raised, static PNGs."""

    _busy, error, last_update_seconds = False, None, None

    def _watch(self, *controls):
        for c in controls:
            c.observe(self._on_change, names="value")

    def _on_change(self, change):
        if self._busy:  # inside a bulk change (a preset filling the grid): update once at its end
            return
        try:
            self._busy = True
            self._react(change)
        except Exception as exc:  # noqa: BLE001 - a callback must never raise into the notebook
            return self._show_error(exc)
        finally:
            self._busy = False
        self.update()

    def _react(self, change):
        """Side effects of a control change, before the recompute (none by default)."""

    def update(self):
        """Recompute from the controls and redraw; on failure set ``error`` instead of raising."""
        start = time.perf_counter()
        try:
            self._compute()
            self._draw()
            self.error, self._message.value = None, ""
        except Exception as exc:  # noqa: BLE001
            self._show_error(exc)
        self.last_update_seconds = time.perf_counter() - start
        return self

    def _show_error(self, exc):
        self.error = f"{type(exc).__name__}: {exc}"
        self._message.value = f'<span style="color:#b00">{html.escape(self.error)}</span>'

    def _setup(self, controls, figsize):  # widgets redrawing one Figure, shown as PNG in an ipw.Image
        self.controls = controls
        self._watch(*controls.values())
        self.figure = Figure(figsize=figsize, dpi=80)
        self._view, self._label, self._message = ipw.Image(format="png"), ipw.HTML(), ipw.HTML()
        self.widget = ipw.VBox([ipw.HBox(list(controls.values())), self._label, self._view, self._message])
        self.update()

    def _draw(self):
        self.figure.clear()
        self._plot()
        self._view.value = _png(self.figure)

    def _ipython_display_(self):
        display(self.widget)

    def show_static(self):
        """Display a PNG of :attr:`figure`: unlike the widget, it stays in the saved notebook."""
        display(Image(data=_png(self.figure)))


class KernelEditor(_Widget):
    """Slide a kernel's weights (sliders ``w_<row>_<col>``) and watch the filtered image change.

    ``images``: dict name -> ndarray (H, W), (1, H, W), (3, H, W) or (H, W, 3), or one ndarray;
    default "digit" (first 7 of the MNIST sample), "photo" (``load_photo(photo_size)``), "photo (grey)".
    ``size`` 3 or 5; ``preset`` one of :data:`PRESETS`; ``normalize`` divides by a non-zero sum;
    ``display`` "stretch" draws the output's min..max as black..white, "clip" clips it to 0..1.

    Results: ``weights`` and ``kernel`` (size, size), the slider values and the kernel applied;
    ``image`` (H, W) or (3, H, W); ``output``, the same shape, each channel filtered with 'same'
    padding: ``conv2d(image[:, None], kernel[None, None], padding=size // 2)[:, 0]`` for (C, H, W).
    """

    def __init__(self, images=None, size=3, preset="identity", normalize=False, display="stretch",
                 photo_size=300):
        if images is None:
            images = {"digit": _first_digit(), "photo": load_photo(photo_size),
                      "photo (grey)": load_photo(photo_size, grey=True)}
        images = images if isinstance(images, dict) else {"image": images}
        hwc = {str(k): _to_hwc(v, f"images[{k!r}]") for k, v in images.items()}  # (H, W) or (H, W, 3)
        self.images = {k: v if v.ndim == 2 else np.ascontiguousarray(v.transpose(2, 0, 1))
                       for k, v in hwc.items()}
        if not self.images:
            raise ValueError("images must hold at least one image, got an empty dict")
        c = self.controls = {
            "preset": ipw.Dropdown(options=PRESETS + ("custom",), value=_choice(preset, "preset", PRESETS),
                                   description="preset"),
            "size": ipw.ToggleButtons(options=[3, 5], value=_choice(size, "size", (3, 5)), description="size",
                                      style={"button_width": "40px"}),
            "image": ipw.Dropdown(options=list(self.images), description="image"),
            "normalize": ipw.Checkbox(value=bool(normalize), description="normalize (÷ sum)"),
            "display": ipw.ToggleButtons(options=["stretch", "clip"], description="output",
                                         value=_choice(display, "display", ("stretch", "clip")),
                                         style={"button_width": "70px"})}
        self._watch(*c.values())
        self._grid, self._message = ipw.GridBox(), ipw.HTML()
        self._views = {k: ipw.Image(format="png") for k in ("input", "kernel", "output")}
        self._labels = {k: ipw.HTML() for k in self._views}
        self._input_png = {}
        self._build_sliders(preset_kernel(preset, size))
        panels = ipw.HBox([ipw.VBox([self._labels[k], self._views[k]]) for k in self._views])
        rows = [ipw.HBox([c["preset"], c["size"], c["image"]]), ipw.HBox([c["normalize"], c["display"]])]
        self.widget = ipw.VBox(rows + [self._grid, panels, self._message])
        self.update()

    def _build_sliders(self, k):
        """Replace the weight sliders ``w_<row>_<col>`` by a K x K grid holding ``k``, shape (K, K)."""
        for name in [n for n in self.controls if n.startswith("w_")]:
            old = self.controls.pop(name)
            for model in (old.layout, old.style, old):  # each is a model of its own in the front end
                model.close()
        self._names = [f"w_{r}_{c}" for r in range(len(k)) for c in range(len(k))]  # row by row
        for name, v in zip(self._names, k.ravel()):
            self.controls[name] = ipw.FloatSlider(value=float(v), min=-10.0, max=10.0, step=0.01,
                                                  readout_format=".3f", layout=ipw.Layout(width="175px"))
        self._watch(*(self.controls[n] for n in self._names))
        self._grid.children = [self.controls[n] for n in self._names]
        self._grid.layout.grid_template_columns = f"repeat({len(k)}, 180px)"

    @property
    def weights(self):
        K = math.isqrt(len(self._names))
        return np.array([self.controls[n].value for n in self._names]).reshape(K, K)

    def _react(self, change):
        owner, K, preset = change["owner"], self.controls["size"].value, self.controls["preset"]
        if owner is self.controls["size"]:  # rebuild: the preset at the new size, or pad/crop a custom grid
            old = self.weights
            custom = np.pad(old, 1) if K > len(old) else old[1:-1, 1:-1]
            self._build_sliders(custom if preset.value == "custom" else preset_kernel(preset.value, K))
        elif owner is preset and preset.value != "custom":
            for name, v in zip(self._names, preset_kernel(preset.value, K).ravel()):
                self.controls[name].value = float(v)
        elif isinstance(owner, ipw.FloatSlider):
            preset.value = "custom"  # the grid no longer holds the preset

    def _compute(self):
        w = self.weights  # (K, K)
        self.kernel = w / w.sum() if self.controls["normalize"].value and abs(w.sum()) > 1e-9 else w
        self.image = self.images[self.controls["image"].value]
        chans = self.image[None] if self.image.ndim == 2 else self.image  # (C, H, W)
        out = conv2d(chans[:, None], self.kernel[None, None], padding=len(w) // 2)  # (C, 1, H, W)
        self.output = out[0, 0] if self.image.ndim == 2 else out[:, 0]

    def _ranges(self):  # (lo, hi) drawn as black..white, for the input and for the output
        x, y, stretch = self.image, self.output, self.controls["display"].value == "stretch"
        inside = x.min() >= 0 and x.max() <= 1
        return (0.0, 1.0) if inside else (x.min(), x.max()), (y.min(), y.max()) if stretch else (0.0, 1.0)

    def _draw(self):
        name, K = self.controls["image"].value, len(self.kernel)
        (ilo, ihi), (lo, hi) = self._ranges()
        if name not in self._input_png:  # the input only changes with the image chooser
            self._input_png[name] = _array_png(self.image, ilo, ihi)
        self._views["input"].value = self._input_png[name]
        self._views["kernel"].value = _kernel_png(self.kernel)  # the sliders show the numbers
        self._views["output"].value = _array_png(self.output, lo, hi)
        self._labels["input"].value = f"<b>input</b> {html.escape(name)}, shape {self.image.shape}"
        self._labels["kernel"].value = f"<b>kernel</b> {K}×{K}, sum {self.kernel.sum():.3g}"
        self._labels["output"].value = (f"<b>output</b> ('same' padding {K // 2}) "
                                        f"{self.output.min():.3g} … {self.output.max():.3g}")

    @property
    def figure(self):
        """A new Figure (not managed by pyplot) of the input, the kernel and the output."""
        (ilo, ihi), (lo, hi) = self._ranges()
        fig = Figure(figsize=(10, 3.6))
        ax = fig.subplots(1, 3)
        show_image(self.image, ax=ax[0], vmin=ilo, vmax=ihi, title=f"input: {self.controls['image'].value}")
        show_kernel(self.kernel, ax=ax[1], title=f"kernel ({self.controls['preset'].value})")
        show_image(self.output, ax=ax[2], vmin=lo, vmax=hi, title="output")
        return fig


def _slider(value, hi, description):
    name = description.replace(" ", "_")
    if as_int(value, name, 1) > hi:
        raise ValueError(f"{name} must be <= {hi}, got {value}")
    return ipw.IntSlider(value=value, min=1, max=hi, description=description)


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
