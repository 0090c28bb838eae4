"""Checks for the exercises of notebook 08 (inside a trained network): receptive fields and calibration."""
import numbers

import numpy as np

from ._core import _ints_differ, _never_raises, _run

__all__ = ["check_receptive_field", "check_calibration_error"]


def _receptive_field(layers):
    """Input pixels seen along one axis by one output unit of ``layers``, a list of (kernel_size, stride)."""
    size, jump = 1, 1  # jump: input pixels between neighbouring units of the current layer
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump
        jump *= stride
    return size


@_never_raises
def check_receptive_field(fn, n_cases=20, seed=0):
    """Check ``fn(layers) -> int``, the receptive field of one unit of the last layer, in input pixels.

    ``layers`` is a list of ``(kernel_size, stride)`` pairs of ints, first layer first: convolutions
    or poolings along one axis, no padding, no dilation. A unit of the last layer depends on input
    pixels spanning ``r = 1 + sum_l (k_l - 1) * s_1 * ... * s_(l-1)`` pixels, from the first to the
    last (the empty list gives 1; a stride larger than its kernel skips some pixels inside the span).
    The course CNN's second conv layer, ``[(5, 1), (2, 2), (5, 1)]``, gives 14; with its second
    pooling, ``[(5, 1), (2, 2), (5, 1), (2, 2)]``, 16. The answer must be an int.
    """
    rng = np.random.default_rng(seed)
    cases = [[], [(5, 1)], [(5, 1), (2, 2)], [(5, 1), (2, 2), (5, 1)], [(5, 1), (2, 2), (5, 1), (2, 2)],
             [(3, 2), (3, 2)], [(2, 2), (3, 1)]]
    while len(cases) < n_cases:
        depth = int(rng.integers(1, 7))
        cases.append([(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(depth)])
    cases = cases[:max(n_cases, 1)]
    cases.sort(key=lambda c: (len(c), _receptive_field(c)))
    return _run("receptive field", fn, ("layers",), [(c,) for c in cases], _receptive_field, _ints_differ)


def _calibration_error(probs, labels, n_bins):
    """ECE of ``probs`` (N, K) against ``labels`` (N,) with ``n_bins`` equal bins (b/n, (b+1)/n]."""
    confidence = probs.max(axis=1)  # (N,)
    correct = probs.argmax(axis=1) == labels  # (N,)
    bins = np.searchsorted(np.arange(1, n_bins + 1) / n_bins, confidence, side="left")  # (N,), 0..n_bins-1
    ece = 0.0
    for b in range(n_bins):
        members = bins == b
        if members.any():
            ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(ece)


def _float_differs(expected, got):
    """None if ``got`` is a real number within 1e-9 (absolute) or 1e-7 (relative) of ``expected``."""
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, numbers.Real):
        return f"expected a number, got {type(got).__name__}"
    if not np.isclose(float(got), expected, rtol=1e-7, atol=1e-9):
        return "values differ"
    return None


@_never_raises
def check_calibration_error(fn, n_cases=20, seed=0):
    """Check ``fn(probs, labels, n_bins) -> float``, the expected calibration error (ECE).

    ``probs`` (N, K): each row a probability vector (non-negative, sums to 1); ``labels`` (N,) ints
    in 0..K-1. A sample's *confidence* is its largest probability and its prediction the class
    with that probability. Bin ``b`` (``b = 0 .. n_bins - 1``) holds the samples whose confidence
    ``c`` has ``b / n_bins < c <= (b + 1) / n_bins``; for each non-empty bin take its accuracy (the
    fraction of its samples predicted right) and its mean confidence. The ECE is the average over
    the bins of ``|accuracy - mean confidence|``, each bin weighted by its share of the N samples:
    ``sum_b (N_b / N) * |acc_b - conf_b|``, a number in [0, 1]. No confidence lies exactly on a
    bin edge except 1.0 (it belongs to the last bin).
    """
    rng = np.random.default_rng(seed)
    easy = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    cases = [(easy, np.array([0, 1, 1, 0]), 2), (easy, np.array([0, 0, 1, 0]), 4)]  # ECE 0.25 and 0.15
    one_hot = np.eye(3)[rng.integers(0, 3, 6)]
    cases.append((one_hot, one_hot.argmax(axis=1), 5))  # confident and right: ECE 0, confidence 1.0
    cases.append((one_hot, (one_hot.argmax(axis=1) + 1) % 3, 4))  # confident and always wrong: ECE 1
    while len(cases) < n_cases:
        N, K = int(rng.integers(5, 200)), int(rng.integers(2, 11))
        probs = rng.dirichlet(np.full(K, float(rng.choice([0.1, 0.3, 1.0]))), size=N)  # (N, K)
        if rng.random() < 0.5:  # labels drawn from the probabilities: a calibrated model, small ECE
            labels = np.array([rng.choice(K, p=p / p.sum()) for p in probs])
        else:  # an overconfident one: right only 60% of the time
            labels = np.where(rng.random(N) < 0.6, probs.argmax(axis=1), rng.integers(0, K, N))
        cases.append((probs, labels.astype(np.int64), int(rng.integers(1, 16))))
    cases = cases[:max(n_cases, 1)]
    cases.sort(key=lambda c: c[0].size)
    return _run("calibration error", fn, ("probs", "labels", "n_bins"), cases, _calibration_error, _float_differs)
