"""The kernel editor of notebook 02: a slider for every weight of a 3x3 or 5x5 kernel, presets, and
the input, kernel and output redrawn live (the output is exactly ``convlib.conv2d``)."""
import html
import math

import ipywidgets as ipw
import numpy as np
from matplotlib.figure import Figure

from .. import filters
from .._validate import as_int
from ..conv import conv2d
from ..plot import _to_hwc, load_photo, show_image, show_kernel
from .base import _array_png, _choice, _first_digit, _kernel_png, _Widget

__all__ = ["PRESETS", "preset_kernel", "KernelEditor"]

PRESETS = ("identity", "box blur", "gaussian blur", "sharpen", "laplacian", "sobel x", "sobel y",
           "emboss", "outline", "diagonal edge")

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
        self._exact = dict(zip(self._names, map(float, k.ravel())))
        for name, v in zip(self._names, k.ravel()):
            self.controls[name] = ipw.FloatSlider(value=float(v), min=-10.0, max=10.0, step=0.01,
                                                  readout_format=".3f", layout=ipw.Layout(width="175px"))
        self._watch(*(self.controls[n] for n in self._names))
        self._grid.children = [self.controls[n] for n in self._names]
        self._grid.layout.grid_template_columns = f"repeat({len(k)}, 180px)"

    def _near_exact(self, name):
        """True when slider ``name`` shows the weight the editor set, up to the browser's rounding.

        A slider moves in steps of 0.01, so the browser rounds a preset weight such as 0.0751 to
        0.08 and sends that back; that echo is not the reader's edit and must not change the kernel.
        """
        slider = self.controls[name]
        return abs(slider.value - self._exact[name]) <= slider.step / 2 + 1e-12

    @property
    def weights(self):
        K = math.isqrt(len(self._names))
        values = [self._exact[n] if self._near_exact(n) else self.controls[n].value for n in self._names]
        return np.array(values).reshape(K, K)

    def _react(self, change):
        owner, K, preset = change["owner"], self.controls["size"].value, self.controls["preset"]
        if owner is self.controls["size"]:  # rebuild: the preset at the new size, or pad/crop a custom grid
            old = self.weights
            custom = np.pad(old, 1) if K > len(old) else old[1:-1, 1:-1]
            self._build_sliders(custom if preset.value == "custom" else preset_kernel(preset.value, K))
        elif owner is preset and preset.value != "custom":
            for name, v in zip(self._names, preset_kernel(preset.value, K).ravel()):
                self._exact[name] = float(v)
                self.controls[name].value = float(v)
        elif isinstance(owner, ipw.FloatSlider):
            name = next(n for n in self._names if self.controls[n] is owner)
            if self._near_exact(name):
                return True  # the browser rounding our own value: nothing to redo
            self._exact[name] = float(owner.value)
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
