"""The convolution arithmetic explorer of notebook 04: input, kernel, stride, padding and dilation
sliders draw where one window falls on the padded input and which output cell it makes, and print
``O = (I + 2P - D(K-1) - 1)//S + 1`` with the numbers filled in."""
import html

import ipywidgets as ipw
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from .._validate import as_int
from .base import _Widget

__all__ = ["conv_arithmetic", "ArithmeticExplorer"]

# Input panel: 0 beyond the padded input, 1 padding, 2 input, 3 input inside the window's span.
_INPUT_CMAP = ListedColormap(["#f4f4f4", "#c9ced6", "#ffffff", "#fde9c4"])
_OUTPUT_CMAP = ListedColormap(["#ffffff", "#e8743b"])


def conv_arithmetic(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of one axis, with the formula spelled out; never raises for sizes that do not fit.

    Returns a dict: ``span = D*(K-1) + 1`` (cells one window covers), ``padded = I + 2P``,
    ``output_size`` ``(I + 2P - D*(K-1) - 1) // S + 1`` or None when ``span > padded``, ``valid``,
    ``reason`` (why not, else ""), ``unused`` (cells at the far end no window reaches, 0 if invalid)
    and ``formula``, e.g. ``"O = (7 + 2·1 − 1·(3−1) − 1)//2 + 1 = 4"``.
    """
    I, K, S = as_int(input_size, "input_size", 1), as_int(kernel_size, "kernel_size", 1), as_int(stride, "stride", 1)
    P, D = as_int(padding, "padding", 0), as_int(dilation, "dilation", 1)
    span, padded = D * (K - 1) + 1, I + 2 * P
    raw = (padded - span) // S + 1
    valid = span <= padded
    formula = f"O = ({I} + 2·{P} − {D}·({K}−1) − 1)//{S} + 1 = {raw}"
    reason = "" if valid else (f"the kernel spans D·(K−1) + 1 = {span} cells but the padded input has only "
                               f"I + 2P = {padded}: no window fits")
    return {"span": span, "padded": padded, "output_size": raw if valid else None, "valid": valid,
            "reason": reason, "unused": (padded - span) % S if valid else 0,
            "formula": formula + ("" if valid else "  (invalid)")}


def _int_slider(value, lo, hi, description):
    v = as_int(value, description, lo)
    if v > hi:
        raise ValueError(f"{description} must be <= {hi}, got {v}")
    return ipw.IntSlider(value=v, min=lo, max=hi, description=description, continuous_update=True)


class ArithmeticExplorer(_Widget):
    """Square input, square kernel: sliders "input", "kernel", "stride", "padding", "dilation" and
    "position" (which output cell, row by row; 0 is the top-left one).

    Hatched cells of the padded input are never reached by any window (the stride overshoots).
    Results: ``output_size`` (None when invalid), ``formula`` (text, also shown above the picture),
    ``valid``, ``reason`` (why not, else ""), ``position`` (i, j) or None, ``window`` (top, left) of that
    window in padded coordinates, ``taps`` (K*K (row, col) padded coordinates the kernel multiplies),
    ``unused`` (last rows/columns of the padded input that no window reaches).
    """

    def __init__(self, input_size=7, kernel_size=3, stride=2, padding=1, dilation=1, position=0,
                 max_input=16, max_kernel=9):
        controls = {"input": _int_slider(input_size, 1, as_int(max_input, "max_input", 1), "input"),
                    "kernel": _int_slider(kernel_size, 1, as_int(max_kernel, "max_kernel", 1), "kernel"),
                    "stride": _int_slider(stride, 1, 5, "stride"),
                    "padding": _int_slider(padding, 0, 5, "padding"),
                    "dilation": _int_slider(dilation, 1, 4, "dilation")}
        a = conv_arithmetic(*(controls[k].value for k in ("input", "kernel", "stride", "padding", "dilation")))
        last = (a["output_size"] or 1) ** 2 - 1
        controls["position"] = _int_slider(position, 0, max(last, 0), "position")
        controls["position"].disabled = a["output_size"] is None
        self._setup(controls, figsize=(9, 4.4))
        c = list(controls.values())
        self.widget.children = (ipw.HBox(c[:3]), ipw.HBox(c[3:])) + self.widget.children[1:]

    def _react(self, change):
        if change["owner"] is self.controls["position"]:
            return
        O = conv_arithmetic(*self._values())["output_size"]
        pos = self.controls["position"]
        pos.max = max((O or 1) ** 2 - 1, 0)  # clamps the value too (its observer is muted by _busy)
        pos.disabled = O is None

    def _values(self):
        return tuple(self.controls[k].value for k in ("input", "kernel", "stride", "padding", "dilation"))

    def _compute(self):
        I, K, S, P, D = self._values()
        a = conv_arithmetic(I, K, S, P, D)
        self.output_size, self.formula, self.valid, self.reason, self.unused = (
            a["output_size"], a["formula"], a["valid"], a["reason"], a["unused"])
        self.span, self.padded = a["span"], a["padded"]
        if self.valid:
            O, k = self.output_size, min(self.controls["position"].value, self.output_size ** 2 - 1)
            self.position = divmod(k, O)
            self.window = (self.position[0] * S, self.position[1] * S)
        else:
            self.position, self.window = None, (0, 0)
        top, left = self.window
        self.taps = [(top + r * D, left + c * D) for r in range(K) for c in range(K)]

    def _plot(self):
        I, K, S, P, D = self._values()
        n, m = self.padded, max(self.padded, self.span)  # m: room for a window that does not fit
        ax0, ax1 = self.figure.subplots(1, 2)
        cells = np.zeros((m, m), dtype=int)  # 0 outside the padded input (only when invalid)
        cells[:n, :n] = 1  # padding
        cells[P:P + I, P:P + I] = 2  # the input itself
        top, left = self.window
        if self.valid:  # tint the input cells inside the window's span (padding stays grey)
            span = cells[top:top + self.span, left:left + self.span]
            span[span == 2] = 3
        ax0.imshow(cells, cmap=_INPUT_CMAP, vmin=0, vmax=3, interpolation="nearest")
        rows, cols = zip(*self.taps)  # one dot per kernel tap; a cross where it would fall off the input
        size = (0.45 * 300 / m) ** 2  # about half a cell, in points squared (the panel is ~300 points wide)
        ax0.scatter(cols, rows, s=size, zorder=3, **({"marker": "o", "color": "#e8743b", "edgecolor": "#8a3a12"}
                                                    if self.valid else {"marker": "x", "color": "#c00000"}))
        ax0.add_patch(Rectangle((left - 0.5, top - 0.5), self.span, self.span, fill=False, lw=2.5,
                                edgecolor="#1f4e9c" if self.valid else "#c00000",
                                linestyle="-" if self.valid else "--"))
        if self.unused:  # rows and columns at the far end that no window reaches: hatched
            u = self.unused
            for xy, w, h in (((n - u - 0.5, -0.5), u, n), ((-0.5, n - u - 0.5), n, u)):
                ax0.add_patch(Rectangle(xy, w, h, fill=False, hatch="///", edgecolor="#8a94a3", lw=0))
        where = f"window {self.position}" if self.valid else "the window does not fit"
        ax0.set_title(f"padded input {n}×{n} (grey = padding)\n{where}, {K}×{K} taps, dilation {D}", fontsize=10)
        if self.valid:
            O = self.output_size
            out = np.zeros((O, O), dtype=int)
            out[self.position] = 1
            ax1.imshow(out, cmap=_OUTPUT_CMAP, vmin=0, vmax=1, interpolation="nearest")
            ax1.set_title(f"output {O}×{O}, cell {self.position}", fontsize=10)
        else:
            ax1.text(0.5, 0.5, f"no output:\nthe kernel spans {self.span} cells,\nthe padded input only {n}",
                     ha="center", va="center", color="#c00000", fontsize=11, transform=ax1.transAxes)
            ax1.set_title("output: none", fontsize=10)
        for ax in (ax0, ax1):
            _grid_lines(ax)
        self.figure.subplots_adjust(left=0.03, right=0.97, bottom=0.04, top=0.86, wspace=0.12)
        self._label.value = self._text()

    def _text(self):
        f = html.escape(self.formula)
        if not self.valid:
            return f'<code>{f}</code><br><span style="color:#c00">{html.escape(self.reason)}</span>'
        O = self.output_size
        note = (f"; the last {self.unused} row(s)/column(s) of the padded input are never reached"
                if self.unused else "")
        return (f"<code>{f}</code><br>output size <b>{O} × {O}</b> ({O * O} positions); "
                f"window {self.position} starts at padded (row, col) {self.window}{note}")


def _grid_lines(ax):
    """Thin lines between the cells of the image drawn on ``ax``; no ticks."""
    if ax.images:
        h, w = ax.images[0].get_array().shape
        ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
        ax.grid(which="minor", color="#7a8391", lw=0.6)
        ax.tick_params(which="minor", length=0)
    ax.set_xticks([])
    ax.set_yticks([])
