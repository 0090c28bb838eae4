"""Classic hand-made image kernels: blurs, edge detectors, the lecture's diagonal edge, Gabor.

Notebook 02 slides these over digits to show what a filter "looks for" before any learning. Every
kernel is a float64 array of shape (KH, KW), meant for cross-correlation (no flip), as in
``convlib.conv2d`` and PyTorch. Each is built by a function that returns a fresh array, so a
caller can scale or edit the result without changing what the next caller gets.

>>> kernel("sobel_x")
array([[-1.,  0.,  1.],
       [-2.,  0.,  2.],
       [-1.,  0.,  1.]])
"""
import numbers
from types import MappingProxyType

import numpy as np

from convlib._validate import as_int

__all__ = [
    "identity", "box_blur", "gaussian_blur", "sharpen", "laplacian", "sobel_x", "sobel_y",
    "emboss", "outline", "diagonal_edge", "gabor", "KERNELS", "kernel", "list_kernels",
]


def _as_float(value, name, positive=True):
    """Return ``value`` as a finite Python float (and > 0 if ``positive``), naming it on failure."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value) or (positive and value <= 0):
        kind = "a positive finite" if positive else "a finite"
        raise ValueError(f"{name} must be {kind} number, got {value!r}")
    return value


def identity():
    """3x3 kernel that copies the image: 1 in the centre, 0 elsewhere. Shape (3, 3), sums to 1."""
    k = np.zeros((3, 3))
    k[1, 1] = 1.0
    return k


def box_blur(size=3):
    """Mean filter: every cell equals ``1 / size**2``. Shape (size, size), sums to 1."""
    size = as_int(size, "size", minimum=1)
    return np.full((size, size), 1.0 / size**2)


def gaussian_blur(size=5, sigma=1.0):
    """Gaussian blur ``exp(-(r**2 + c**2) / (2 sigma**2))``, normalised to sum to 1.

    Parameters
    ----------
    size : int, >= 1
        Side of the square kernel; the grid runs from ``-(size-1)/2`` to ``(size-1)/2``, so an even
        size is centred between pixels.
    sigma : float, > 0
        Standard deviation in pixels.

    Returns
    -------
    k : ndarray, shape (size, size)
    """
    size = as_int(size, "size", minimum=1)
    sigma = _as_float(sigma, "sigma")
    r = np.arange(size) - (size - 1) / 2  # (size,)
    g = np.exp(-(r**2) / (2 * sigma**2))
    k = np.outer(g, g)  # (size, size): separable, one row profile times one column profile
    return k / k.sum()


def sharpen():
    """3x3 sharpen: 5 in the centre, -1 at the four edge neighbours. Sums to 1 (keeps flat areas)."""
    return np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])


def laplacian():
    """3x3 Laplacian (4-neighbour): -4 in the centre, 1 at the edge neighbours. Sums to 0."""
    return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def sobel_x():
    """3x3 Sobel for vertical edges; positive where intensity grows left to right. Sums to 0.

    ``[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]`` under cross-correlation (no flip).
    """
    return np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel_y():
    """3x3 Sobel for horizontal edges; positive where intensity grows top to bottom. ``sobel_x().T``."""
    return sobel_x().T


def emboss():
    """3x3 emboss: ``[[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]``, a diagonal gradient plus the image. Sums to 1."""
    return np.array([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])


def outline():
    """3x3 outline (8-neighbour Laplacian, negated): 8 in the centre, -1 around. Sums to 0."""
    k = -np.ones((3, 3))
    k[1, 1] = 8.0
    return k


_DIRECTIONS = ("down", "up")


def diagonal_edge(size=7, direction="down", on_diagonal=0.0):
    """The lecture's hand-made filter for a diagonal edge running from bottom-left to top-right.

    Cell ``(i, j)`` (row ``i`` from the top, column ``j`` from the left) lies on the anti-diagonal
    when ``i + j == size - 1``. With ``direction="down"``:

    - ``-1`` above the anti-diagonal (``i + j < size - 1``, the top-left triangle),
    - ``+1`` below it (``i + j > size - 1``, the bottom-right triangle),
    - ``0`` on it.

    So the filter answers most strongly (positively) to a patch that is dark in the top-left and
    bright in the bottom-right. For ``size=3``::

        [[-1, -1,  0],
         [-1,  0,  1],
         [ 0,  1,  1]]

    ``direction="up"`` returns the negation (``+1`` top-left, ``-1`` bottom-right), the opposing
    filter that prefers the reversed edge. Each triangle holds ``size*(size-1)/2`` cells (21 for
    size 7), so the filter sums to 0 and gives 0 on a flat patch. (The lecture's 7x7 version puts
    -1 on the anti-diagonal too; the 0 here makes the two triangles balance.)

    Parameters
    ----------
    size : int, >= 2
        Side of the square filter.
    direction : {"down", "up"}
        ``"down"``: bright goes with the bottom-right; ``"up"``: bright goes with the top-left.
    on_diagonal : float, default 0.0
        Value of the cells on the anti-diagonal (before ``direction`` flips the sign).

    Returns
    -------
    k : ndarray, shape (size, size), float64
    """
    size = as_int(size, "size", minimum=2)
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
    i, j = np.indices((size, size))  # each (size, size)
    k = np.sign(i + j - (size - 1)).astype(np.float64)
    k[i + j == size - 1] = _as_float(on_diagonal, "on_diagonal", positive=False)
    return k if direction == "down" else 0.0 - k  # 0.0 - k, not -k: no negative zeros on display


def gabor(size, theta, sigma, wavelength, phase=0.0, gamma=1.0):
    """Real part of a Gabor filter: a Gaussian envelope times a cosine wave, made zero-mean.

    On the grid ``x = c - (size-1)/2`` (column), ``y = r - (size-1)/2`` (row), rotated by ``theta``::

        x' =  x cos(theta) + y sin(theta)
        y' = -x sin(theta) + y cos(theta)
        g  = exp(-(x'**2 + gamma**2 y'**2) / (2 sigma**2)) * cos(2 pi x' / wavelength + phase)

    and then the mean of ``g`` is subtracted, so the filter gives 0 on a flat patch and responds
    only to structure. With ``theta=0`` the stripes are vertical (the wave runs along columns), so
    the filter detects vertical edges and bars; ``theta=pi/2`` gives horizontal stripes. For
    ``gamma=1`` (round envelope) the two are transposes of each other.

    Parameters
    ----------
    size : int, >= 1
        Side of the square kernel.
    theta : float
        Direction of the wave, in radians, measured from the column axis towards the row axis.
    sigma : float, > 0
        Standard deviation of the Gaussian envelope, in pixels.
    wavelength : float, > 0
        Period of the cosine, in pixels.
    phase : float, optional
        Phase offset in radians: 0 gives an even (bar) detector, ``pi/2`` an odd (edge) detector.
    gamma : float, > 0, optional
        Aspect ratio of the envelope; values below 1 stretch it along the stripes.

    Returns
    -------
    k : ndarray, shape (size, size), float64, mean 0
    """
    size = as_int(size, "size", minimum=1)
    theta = _as_float(theta, "theta", positive=False)
    sigma = _as_float(sigma, "sigma")
    wavelength = _as_float(wavelength, "wavelength")
    phase = _as_float(phase, "phase", positive=False)
    gamma = _as_float(gamma, "gamma")
    y, x = np.indices((size, size)) - (size - 1) / 2  # each (size, size): row and column offsets
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(xr**2 + gamma**2 * yr**2) / (2 * sigma**2)) * np.cos(2 * np.pi * xr / wavelength + phase)
    return g - g.mean()


KERNELS = MappingProxyType({
    "identity": identity,
    "box_blur": box_blur,
    "gaussian_blur": gaussian_blur,
    "sharpen": sharpen,
    "laplacian": laplacian,
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
    "emboss": emboss,
    "outline": outline,
    "diagonal_edge": diagonal_edge,
    "gabor": gabor,
})
"""Read-only mapping name -> function returning a fresh kernel; ``kernel(name, ...)`` checks the name."""


def list_kernels():
    """Return the names accepted by :func:`kernel`, sorted, as a list of str."""
    return sorted(KERNELS)


def kernel(name, *args, **kwargs):
    """Build the named kernel, passing any further arguments to its function.

    Parameters
    ----------
    name : str
        One of :func:`list_kernels`, e.g. ``"sobel_x"``.
    *args, **kwargs
        Forwarded, e.g. ``kernel("gaussian_blur", size=7, sigma=2.0)``.

    Returns
    -------
    k : ndarray, shape (KH, KW), float64
        A fresh array; editing it does not affect later calls.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r} ({type(name).__name__})")
    if name not in KERNELS:
        raise ValueError(f"name must be one of {list_kernels()}, got {name!r}")
    return KERNELS[name](*args, **kwargs)
