"""Numerical gradient checking: centred finite differences and the relative error.

Every ``*_backward`` function in convlib is checked against :func:`numerical_gradient` in float64,
and the agreement is summarised by one number, :func:`rel_error`. Notebook 06, which derives the
backward pass, teaches both; later notebooks use :func:`check_gradient` as a one-liner.

The scalar being differentiated is ``L(x) = sum(f(x) * dout)``: its gradient with respect to ``x``
is exactly what a backward pass computes when it receives the upstream gradient ``dout``.
"""
import numbers

import numpy as np

from convlib._validate import as_array

__all__ = ["numerical_gradient", "rel_error", "check_gradient"]


def _check_h(h):
    """Return ``h`` as a positive finite Python float, else TypeError/ValueError naming it."""
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise TypeError(f"h must be a positive float, got {h!r} ({type(h).__name__})")
    h = float(h)
    if not np.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite float, got {h!r}")
    return h


def _check_float_array(x, name):
    """Raise TypeError unless ``x`` is an ndarray with a floating-point dtype."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy ndarray (it is perturbed in place), got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must have a floating-point dtype to be perturbed by h, got dtype {x.dtype}")
    if not x.flags.writeable:
        raise ValueError(f"{name} must be writeable (it is perturbed in place), got a read-only array")


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centred finite-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    For every element ``x[i]``::

        grad[i] = (L(x + h e_i) - L(x - h e_i)) / (2 h),   L(x) = sum(f(x) * dout)

    ``x`` is perturbed in place, one element at a time, and each element is restored to its exact
    original value afterwards, even if ``f`` raises. This costs ``2 * x.size`` calls to ``f``, so
    keep ``x`` small; use float64, since in float32 the rounding error of ``L`` swamps the ``h**2``
    truncation error.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array (or scalar) of shape ``S``; it must not modify ``x``.
    x : ndarray, float dtype, any shape
        The point at which to differentiate. Perturbed in place during the call, restored after.
    dout : array_like, shape S, optional
        Upstream gradient weighting the outputs of ``f``. Defaults to ``ones(S)``, giving the
        gradient of ``sum(f(x))``.
    h : float, optional
        Step size, positive. ``1e-5`` suits float64 functions of order-one values.

    Returns
    -------
    grad : ndarray, same shape and dtype as x
        ``grad[i] = dL/dx[i]``.

    Raises
    ------
    TypeError
        If ``x`` is not a floating-point ndarray, ``f`` is not callable or ``h`` is not a number.
    ValueError
        If ``dout``'s shape differs from ``f(x)``'s shape, ``h`` is not positive or ``x`` is
        read-only.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    _check_float_array(x, "x")
    h = _check_h(h)
    out_shape = np.shape(f(x))
    if dout is None:
        dout = np.ones(out_shape)
    else:
        dout = as_array(dout, "dout")
        if dout.shape != out_shape:
            raise ValueError(f"dout must have the shape of f(x), {out_shape}, got shape {dout.shape}")

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        original = x[i]  # a NumPy scalar: an immutable copy with the exact bits and dtype
        try:
            x[i] = original + h
            loss_plus = np.sum(np.asarray(f(x)) * dout)
            x[i] = original - h
            loss_minus = np.sum(np.asarray(f(x)) * dout)
        finally:
            x[i] = original
        grad[i] = (loss_plus - loss_minus) / (2 * h)
    return grad


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(1e-8, |a| + |b|)``.

    The floor of ``1e-8`` keeps the ratio finite where both values are (nearly) zero. As a rule of
    thumb for float64 gradient checks: below ``1e-7`` is right, above ``1e-2`` is a bug.

    Parameters
    ----------
    a, b : array_like, same shape S
        For example an analytic and a numerical gradient.

    Returns
    -------
    error : float
        A Python float; ``0.0`` for identical (or empty) arrays. Symmetric in ``a`` and ``b``.

    Raises
    ------
    ValueError
        If ``a`` and ``b`` have different shapes.
    """
    a = as_array(a, "a")
    b = as_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got a.shape={a.shape} and b.shape={b.shape}")
    if a.size == 0:
        return 0.0
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def check_gradient(f, x, analytic, dout=None, h=1e-5):
    """Relative error between an analytic gradient and the numerical one at ``x``.

    Parameters
    ----------
    f : callable
        As in :func:`numerical_gradient`.
    x : ndarray, float dtype, any shape
        Point of evaluation (perturbed in place, restored afterwards).
    analytic : array_like, same shape as x
        The gradient of ``sum(f(x) * dout)`` computed by a backward pass.
    dout : array_like, shape of f(x), optional
        Upstream gradient; defaults to ones.
    h : float, optional
        Finite-difference step.

    Returns
    -------
    error : float
        ``rel_error(analytic, numerical_gradient(f, x, dout, h))``.
    """
    analytic = as_array(analytic, "analytic")
    if isinstance(x, np.ndarray) and analytic.shape != x.shape:
        raise ValueError(f"analytic must have the shape of x, {x.shape}, got shape {analytic.shape}")
    return rel_error(analytic, numerical_gradient(f, x, dout=dout, h=h))
