"""Pictures for the course: images, grids of patches and feature maps, kernels, windows, timings.

Notebook 01 draws digits and their patches (:func:`show_image`, :func:`show_grid`,
:func:`mosaic`, :func:`show_windows`), 02 draws filters and what they respond to
(:func:`show_kernel`, :func:`load_photo`) and 03 draws the speed ladder (:func:`plot_timings`).
Every function returns the matplotlib Axes or Figure it drew on, so tests and notebooks can
inspect what was drawn instead of comparing pixels. Images are grey (H, W) or (1, H, W), or
colour (3, H, W) (channels first, like convlib) or (H, W, 3) (channels last, like matplotlib).
"""
import functools
import math
import numbers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from ._validate import as_array, as_int, as_pair
from .windows import _output_hw

__all__ = [
    "show_image", "show_grid", "mosaic", "show_kernel", "show_windows", "plot_timings", "load_photo",
]

_SCALES = ("shared", "each")


def _to_hwc(img, name="img"):
    """Grey (H, W) / (1, H, W) -> (H, W); colour (3, H, W) / (H, W, 3) -> (H, W, 3); float64."""
    x = as_array(img, name).astype(np.float64)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    elif x.ndim == 3 and x.shape[0] == 3:
        x = x.transpose(1, 2, 0)  # (H, W, 3)
    if not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] == 3)):
        raise ValueError(f"{name} must have shape (H, W), (1, H, W), (3, H, W) or (H, W, 3), got {np.shape(img)}")
    return x


def _check_scale(scale):
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {_SCALES}, got {scale!r}")


def show_image(img, ax=None, negative=False, vmin=None, vmax=None, title=None, cmap="gray", colorbar=False):
    """Draw one image without ticks; return the Axes.

    Parameters
    ----------
    img : ndarray, shape (H, W), (1, H, W), (3, H, W) or (H, W, 3)
    ax : matplotlib Axes, optional (a new 3x3-inch figure if omitted)
    negative : bool
        Reverse the colour map: a digit (ink = 1) comes out dark on a light page.
    vmin, vmax : float, optional
        The values drawn as the darkest and lightest colour. By default each image is stretched
        from its own min to its max, so a constant patch comes out all one colour; pass fixed
        limits (e.g. ``vmin=0, vmax=1``) to compare images fairly. A colour image defaults to
        0..1 when its values lie there, else to its own min..max.
    colorbar : bool
        Add a colour bar (grey images only).
    """
    pic = _to_hwc(img)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    if pic.ndim == 3:
        inside = pic.size and pic.min() >= 0 and pic.max() <= 1
        lo = vmin if vmin is not None else (0.0 if inside else pic.min())
        hi = vmax if vmax is not None else (1.0 if inside else pic.max())
        rgb = np.clip((pic - lo) / (hi - lo if hi != lo else 1.0), 0, 1)  # (H, W, 3)
        ax.imshow(1 - rgb if negative else rgb, interpolation="nearest")
    else:
        cmap = plt.get_cmap(cmap).reversed() if negative else cmap
        im = ax.imshow(pic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        if colorbar:
            ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def _as_batch(images, name="images"):
    """A list of images or an array batch -> (list of (H, W) / (H, W, 3) arrays, ncols of a patch grid)."""
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError(f"{name} must hold at least one image, got an empty {type(images).__name__}")
        return [_to_hwc(im, f"{name}[{i}]") for i, im in enumerate(images)], None
    x = as_array(images, name)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]  # (N, H, W)
    if x.ndim == 3:
        return list(x.astype(np.float64)), None
    if x.ndim == 4:
        OH, OW = x.shape[:2]
        return list(x.reshape(OH * OW, *x.shape[2:]).astype(np.float64)), OW
    raise ValueError(f"{name} must have shape (N, H, W), (N, 1, H, W) or (OH, OW, KH, KW), or be a "
                     f"list of images, got shape {x.shape}")


def _default_ncols(n, grid_cols):
    return grid_cols if grid_cols is not None else (n if n <= 8 else math.ceil(math.sqrt(n)))


def show_grid(images, ncols=None, scale="shared", titles=None, negative=False, figsize=None,
              suptitle=None, cmap="gray", vmin=None, vmax=None):
    """Draw many images in a grid, one Axes each; return the Figure.

    Parameters
    ----------
    images : ndarray or list
        (N, H, W) or (N, 1, H, W): N images, ``ncols`` per row. (OH, OW, KH, KW): a grid of
        patches as returned by ``make_patches(...)[0]``, laid out OH rows by OW columns (but a
        grid with OW = 1 reads as (N, 1, H, W): pass ``ncols=1``).
        A list of images of any shape :func:`show_image` accepts (use a list for colour).
    ncols : int, optional
        Columns (default: OW for a patch grid, N up to 8, else about sqrt(N)).
    scale : {"shared", "each"}
        "shared": one vmin..vmax for all (the min and max over every image, unless given), so
        equal values look equal everywhere. "each": every image stretched to its own range.
    titles : list of str, optional, one per image
    negative, cmap : as in :func:`show_image`

    For hundreds of small tiles, ``show_image(mosaic(images))`` draws one Axes and is much faster.
    """
    _check_scale(scale)
    pics, grid_cols = _as_batch(images)
    n = len(pics)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must give one title per image ({n}), got {len(titles)}")
    ncols = _default_ncols(n, grid_cols) if ncols is None else as_int(ncols, "ncols", 1)
    nrows = math.ceil(n / ncols)
    if scale == "shared":
        vmin = min(float(p.min()) for p in pics) if vmin is None else vmin
        vmax = max(float(p.max()) for p in pics) if vmax is None else vmax
    if figsize is None:
        side = min(1.8, 12 / ncols)
        aspect = pics[0].shape[0] / pics[0].shape[1]
        figsize = (side * ncols, side * nrows * aspect + (0.3 * nrows if titles else 0) + (0.4 if suptitle else 0))
    gap = 0.35 if titles else 0.06
    top = 1 - (0.1 + 0.3 * bool(titles) + 0.4 * bool(suptitle)) / figsize[1]  # inches kept for titles
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, gridspec_kw=dict(
        wspace=gap / 3 if titles else gap, hspace=gap, left=0.02, right=0.98, bottom=0.02, top=top))
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        show_image(pics[i], ax=ax, negative=negative, cmap=cmap, title=None if titles is None else titles[i],
                   vmin=vmin if scale == "shared" else None, vmax=vmax if scale == "shared" else None)
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


def mosaic(images, ncols=None, gap=1, scale="shared"):
    """Tile grey images into one array with NaN gaps, to draw hundreds of patches at once.

    Parameters
    ----------
    images : ndarray, shape (N, H, W), (N, 1, H, W) or (OH, OW, H, W), as for :func:`show_grid`
    gap : int, NaN pixels between tiles (drawn as the page colour)
    scale : {"shared", "each"}; "each" stretches each tile to 0..1 (a constant tile becomes 0)

    Returns
    -------
    tiled : ndarray, shape (R*(H + gap) - gap, C*(W + gap) - gap), float64
        with R rows and C columns of tiles; unused cells are NaN.
    """
    _check_scale(scale)
    pics, grid_cols = _as_batch(images)
    if pics[0].ndim != 2 or any(p.shape != pics[0].shape for p in pics):
        raise ValueError(f"images must be grey and of one shape for mosaic, got {sorted({p.shape for p in pics})}")
    gap = as_int(gap, "gap", 0)
    ncols = _default_ncols(len(pics), grid_cols) if ncols is None else as_int(ncols, "ncols", 1)
    nrows = math.ceil(len(pics) / ncols)
    H, W = pics[0].shape
    out = np.full((nrows * (H + gap) - gap, ncols * (W + gap) - gap), np.nan)
    for i, p in enumerate(pics):
        if scale == "each":
            p = p - p.min()
            p = p / p.max() if p.max() > 0 else p
        r, c = divmod(i, ncols)
        out[r * (H + gap):r * (H + gap) + H, c * (W + gap):c * (W + gap) + W] = p
    return out


def show_kernel(k, ax=None, annotate=True, cmap="RdBu_r", title=None, fmt=None):
    """Draw a kernel as a heat map centred on zero (red positive, blue negative); return the Axes.

    Parameters
    ----------
    k : ndarray, shape (KH, KW), or with leading axes of size 1 such as (1, 1, KH, KW)
    annotate : bool
        Write each weight in its cell (skipped for kernels larger than 9x9).
    fmt : str, optional
        Format of the numbers, e.g. ``"{:.2f}"``; by default integers print without decimals.
    """
    w = as_array(k, "k").astype(np.float64)
    while w.ndim > 2 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 2:
        raise ValueError(f"k must have shape (KH, KW), got {np.shape(k)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    m = float(np.abs(w).max()) if w.size else 0.0
    m = m if m > 0 else 1.0
    ax.imshow(w, cmap=cmap, vmin=-m, vmax=m, interpolation="nearest")
    if annotate and max(w.shape) <= 9:
        fmt = fmt or ("{:.0f}" if np.all(w == np.round(w)) else "{:.2f}")
        for (r, c), v in np.ndenumerate(w):
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=9,
                    color="white" if abs(v) > 0.6 * m else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def show_windows(image, kernel_size, stride=1, positions=None, ax=None, padding=0, negative=False, title=None):
    """Draw an image with a rectangle around the window each output position (i, j) comes from.

    Window (i, j) covers rows ``i*SH .. i*SH + KH - 1`` and columns ``j*SW .. j*SW + KW - 1`` of
    the padded image, and ``OH = (H + 2*PH - KH) // SH + 1`` windows fit down (likewise OW).

    Parameters
    ----------
    image : ndarray, shape (H, W) or (1, H, W)
    kernel_size, stride, padding : int or pair
    positions : list of (i, j), or "all", optional
        Default: all windows if there are at most 16, else (0, 0), (0, 1), (1, 0) and the last.

    Returns
    -------
    ax : Axes; ``ax.patches`` holds one Rectangle per window (plus a dashed one when padded).
    """
    img = _to_hwc(image, "image")
    if img.ndim != 2:
        raise ValueError(f"image must be grey, shape (H, W) or (1, H, W), got {np.shape(image)}")
    (KH, KW), (SH, SW) = as_pair(kernel_size, "kernel_size", 1), as_pair(stride, "stride", 1)
    PH, PW = as_pair(padding, "padding", 0)
    OH, OW = _output_hw(*img.shape, (KH, KW), (SH, SW), (PH, PW), (1, 1))
    if positions is None:
        corners = [(0, 0), (0, min(1, OW - 1)), (min(1, OH - 1), 0), (OH - 1, OW - 1)]
        positions = "all" if OH * OW <= 16 else list(dict.fromkeys(corners))
    if isinstance(positions, str) and positions == "all":
        positions = [(i, j) for i in range(OH) for j in range(OW)]
    for p in positions:
        if not (isinstance(p, (tuple, list)) and len(p) == 2 and all(isinstance(v, numbers.Integral) for v in p)
                and 0 <= p[0] < OH and 0 <= p[1] < OW):
            raise ValueError(f"positions must be (i, j) pairs with 0 <= i < {OH}, 0 <= j < {OW}, got {p!r}")
    img = np.pad(img, ((PH, PH), (PW, PW)))
    title = f"{OH}x{OW} windows of {KH}x{KW}, stride {SH if SH == SW else (SH, SW)}" if title is None else title
    ax = show_image(img, ax=ax, negative=negative, vmin=min(0.0, img.min()), vmax=max(1.0, img.max()), title=title)
    if PH or PW:  # the original image inside its zero border
        ax.add_patch(Rectangle((PW - 0.5, PH - 0.5), img.shape[1] - 2 * PW, img.shape[0] - 2 * PH,
                               fill=False, linestyle="--", edgecolor="0.5", lw=1))
    for n, (i, j) in enumerate(positions):
        ax.add_patch(Rectangle((j * SW - 0.5, i * SH - 0.5), KW, KH, fill=False, edgecolor=f"C{n % 10}", lw=2))
        if len(positions) <= 16:
            ax.text(j * SW, i * SH, f"{i},{j}", color=f"C{n % 10}", fontsize=7, va="top", ha="left")
    return ax


def _format_seconds(s):
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= factor:
            return f"{s / factor:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def plot_timings(names, seconds, ax=None, title=None, horizontal=True, speedup=True):
    """Bar chart of run times on a log axis, each bar labelled with its time; return the Axes.

    Parameters
    ----------
    names : sequence of str, length M
    seconds : sequence of float > 0, length M
    horizontal : bool, bars run left to right with the first name at the top
    speedup : bool, add "(N x)": how many times faster than the first entry
    """
    names = [str(n) for n in names]
    t = as_array(seconds, "seconds").astype(np.float64).ravel()
    if len(names) != t.size or t.size == 0:
        raise ValueError(f"names and seconds must be non-empty and of equal length, got {len(names)} and {t.size}")
    if not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError(f"seconds must be positive and finite, got {t.tolist()}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 * t.size + 1) if horizontal else (1.2 * t.size + 2, 4))
    pos = np.arange(t.size)
    ratios = [f" ({r:,.0f}x)" if r >= 10 else f" ({r:.2g}x)" for r in t[0] / t]
    labels = [_format_seconds(s) + (ratios[i] if speedup and i else "") for i, s in enumerate(t)]
    bars = (ax.barh if horizontal else ax.bar)(pos, t, color=[f"C{i % 10}" for i in pos])
    if horizontal:
        ax.set(xscale="log", xlim=(t.min() / 3, t.max() * 30), xlabel="time (s, log scale)")
        ax.set_yticks(pos, names)
        ax.invert_yaxis()
    else:
        ax.set(yscale="log", ylim=(t.min() / 3, t.max() * 30), ylabel="time (s, log scale)")
        ax.set_xticks(pos, names, rotation=30, ha="right")
    ax.bar_label(bars, labels=labels, padding=3, fontsize=9)
    if title is not None:
        ax.set_title(title)
    return ax


@functools.lru_cache(maxsize=1)
def _photo_uint8():
    from matplotlib import cbook, image
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return image.imread(f, format="jpg")  # (600, 512, 3) uint8


def load_photo(size=None, grey=False):
    """Grace Hopper's portrait, which ships with matplotlib (no download), as float64 in [0, 1].

    Parameters
    ----------
    size : int, optional
        Largest side wanted. The photo (600 x 512) is shrunk by averaging f x f blocks with
        ``f = ceil(600 / size)`` (cropping the last rows/columns that do not fill a block), so
        ``size=300`` gives 300 x 256. Smaller images keep the kernel editor fast.
    grey : bool
        Return luminance ``0.299 R + 0.587 G + 0.114 B`` instead of colour.

    Returns
    -------
    photo : ndarray, shape (3, H, W) (channels first, like convlib), or (H, W) if ``grey``
    """
    rgb = _photo_uint8().astype(np.float64) / 255.0  # (600, 512, 3)
    if size is not None:
        size = as_int(size, "size", 1)
        f = math.ceil(max(rgb.shape[:2]) / size)
        H, W = rgb.shape[0] // f, rgb.shape[1] // f
        rgb = rgb[:H * f, :W * f].reshape(H, f, W, f, 3).mean(axis=(1, 3))  # (H, W, 3)
    if grey:
        return rgb @ np.array([0.299, 0.587, 0.114])  # (H, W)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))  # (3, H, W)
