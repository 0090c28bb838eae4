"""Argument checks shared by every convlib module.

Each helper raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for a value of
the right kind but the wrong size, always naming the argument and showing the value, so that bad
input never surfaces as a NumPy broadcasting error from deep inside a function.
"""
import numbers

import numpy as np

__all__ = ["as_int", "as_pair", "as_array", "check_ndim"]


def as_int(value, name, minimum=0):
    """Return ``value`` as a Python int, checking that it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_pair(value, name, minimum=0):
    """Return ``value`` (an int or a pair of ints) as a ``(height, width)`` tuple of ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) else list(value)
        if len(items) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return (as_int(items[0], f"{name}[0]", minimum), as_int(items[1], f"{name}[1]", minimum))
    v = as_int(value, name, minimum)
    return (v, v)


def as_array(x, name):
    """Return ``x`` as an ndarray of a real numeric dtype (bool, int, uint or float), else TypeError."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}: {exc}") from None
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{name} must have a real numeric dtype, got dtype {x.dtype}")
    return x


def check_ndim(x, name, ndims, layout):
    """Raise ValueError unless ``x.ndim`` is in ``ndims``; ``layout`` names the expected axes."""
    if x.ndim not in ndims:
        raise ValueError(f"{name} must have shape {layout}, got an array of shape {x.shape}")
