"""Plumbing shared by every convlib widget: observers, errors shown instead of raised, fast PNGs.

A widget subclasses :class:`_Widget`; it builds ipywidgets ``controls``, calls ``_watch`` on them, and
implements ``_compute`` (the numbers) and ``_draw`` or ``_plot`` (the picture).
"""
import html
import io
import time

import ipywidgets as ipw
import numpy as np
from IPython.display import Image, display
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL.Image import fromarray

from .._validate import as_int
from ..data import load_mnist_sample

__all__ = []


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
            unchanged = self._react(change)
        except Exception as exc:  # noqa: BLE001 - a callback must never raise into the notebook
            return self._show_error(exc)
        finally:
            self._busy = False
        if not unchanged:
            self.update()

    def _react(self, change):
        """Side effects of a control change, before the recompute (none by default).
        Return True when the change leaves the results as they are, to skip the recompute."""

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


def _slider(value, hi, description):
    name = description.replace(" ", "_")
    if as_int(value, name, 1) > hi:
        raise ValueError(f"{name} must be <= {hi}, got {value}")
    return ipw.IntSlider(value=value, min=1, max=hi, description=description)
