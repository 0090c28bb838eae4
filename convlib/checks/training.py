"""Checks for the exercises of notebook 07 (training a CNN): the loss that training minimises, and
the shift that augments the training digits."""
import numpy as np

from ..layers import softmax_cross_entropy
from ..train import shift_images
from ._core import _arrays_differ, _never_raises, _run

__all__ = ["check_softmax_cross_entropy", "check_shift_image"]


def _loss_and_grad_differ(expected, got):
    """A differ for ``(loss, dlogits)``: a single number and an (N, K) array."""
    if not isinstance(got, (tuple, list)):
        return f"expected a tuple (loss, dlogits), got {type(got).__name__}"
    if len(got) != 2:
        return f"expected a tuple of 2 items (loss, dlogits), got {len(got)} items"
    loss, dlogits = got
    if loss is None or dlogits is None:
        return "loss returned None" if loss is None else "dlogits returned None"
    if np.ndim(loss) != 0:
        return f"loss: expected a single number (the mean over the batch), got shape {np.shape(loss)}"
    problem = _arrays_differ(np.asarray(expected[0]), loss)
    if problem:
        return f"loss: {problem}"
    problem = _arrays_differ(expected[1], dlogits)
    return f"dlogits: {problem}" if problem else None


@_never_raises
def check_softmax_cross_entropy(fn, n_cases=20, seed=0):
    """Check ``fn(logits, labels) -> (loss, dlogits)``, the softmax cross-entropy of a batch.

    ``logits`` is a float64 array of shape (N, K) and ``labels`` an int array of shape (N,) with
    values in 0..K-1. ``loss`` is one number, the mean over the N rows of
    ``log(sum_k exp(logits[n, k])) - logits[n, labels[n]]``; ``dlogits`` (N, K) is its gradient,
    ``(softmax(logits) - onehot(labels)) / N``, as :func:`convlib.layers.softmax_cross_entropy`
    gives. From the fourth case on, every third case has large logits, the largest of each row
    being exactly 1000 or -1000: there ``np.exp`` overflows to inf (or underflows to 0 for every
    entry of a row) unless the row's largest logit is subtracted first.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        N = 1 if k == 0 else int(rng.integers(1, 2 + k // 2))
        K = 2 if k == 0 else int(rng.integers(2, 11))
        logits = np.round(rng.normal(0.0, 2.0, (N, K)), 2)
        if k >= 3 and k % 3 == 0:  # each row's largest logit is 1000 or -1000: exp() overflows or underflows
            logits = np.round(100 * logits, 1)
            logits += (1000.0 if k % 2 else -1000.0) - logits.max(axis=1, keepdims=True)
        cases.append((logits, rng.integers(0, K, N)))
    order = sorted(range(len(cases)), key=lambda i: (cases[i][0].size, i))

    return _run("softmax cross-entropy", fn, ("logits", "labels"), [cases[i] for i in order],
                softmax_cross_entropy, _loss_and_grad_differ)


@_never_raises
def check_shift_image(fn, n_cases=20, seed=0):
    """Check ``fn(image, dy, dx) -> shifted``, one image moved by whole pixels with zeros coming in.

    ``image`` has shape (H, W) (often not square) and holds distinct positive values; ``dy`` and
    ``dx`` are ints, down and right when positive (up and left when negative), with
    ``-H <= dy <= H`` and ``-W <= dx <= W``. ``shifted`` has shape (H, W) and
    ``shifted[i, j] = image[i - dy, j - dx]`` where that pixel exists, else 0: nothing wraps round,
    and a shift by the whole height or width leaves only zeros. The same as
    ``convlib.train.shift_images(image[None, None], np.array([[dy, dx]]))[0, 0]``.
    """
    rng = np.random.default_rng(seed)
    first = [((3, 3), 1, 0), ((3, 3), 0, -1), ((3, 4), -1, 2), ((4, 3), 2, 1), ((3, 5), 3, -5)]  # the last: all zeros
    more = []
    while len(first) + len(more) < n_cases:
        H, W = (int(v) for v in rng.integers(2, 9, 2))
        more.append(((H, W), int(rng.integers(-H, H + 1)), int(rng.integers(-W, W + 1))))
    cases = first + sorted(more, key=lambda c: c[0][0] * c[0][1])  # the easy cases first, then by size
    cases = [(rng.permutation(H * W).reshape(H, W).astype(np.float64) + 1, dy, dx) for (H, W), dy, dx in cases]

    def reference(image, dy, dx):
        return shift_images(image[None, None], np.array([[dy, dx]]))[0, 0]

    return _run("shift image", fn, ("image", "dy", "dx"), cases, reference, _arrays_differ)
