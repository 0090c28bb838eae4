"""Tests for the notebook 07 checks in convlib.checks.training: each passes correct answers,
catches plausible wrong ones (at least two per check), reports the smallest failing case first,
and never raises."""
import numpy as np
import pytest

from convlib import checks
from convlib.layers import softmax_cross_entropy
from convlib.train import shift_images
from checkkit import contract_tests, robustness_tests, stub as _stub

# ---------------------------------------------------------------------------------------------
# Correct answers, written the way a reader would.


def cross_entropy_stable(logits, labels):
    # Subtract each row's largest logit (softmax does not change), then log-softmax.
    N = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_probs)
    dlogits[np.arange(N), labels] -= 1
    return -log_probs[np.arange(N), labels].mean(), dlogits / N


def cross_entropy_loops(logits, labels):
    N, K = logits.shape
    loss, dlogits = 0.0, np.zeros_like(logits)
    for n in range(N):
        m = max(logits[n])
        total = sum(np.exp(v - m) for v in logits[n])
        loss += (m + np.log(total) - logits[n, labels[n]]) / N
        for k in range(K):
            dlogits[n, k] = (np.exp(logits[n, k] - m) / total - (k == labels[n])) / N
    return loss, dlogits


def shift_loops(image, dy, dx):
    H, W = image.shape
    out = np.zeros_like(image)
    for i in range(H):
        for j in range(W):
            if 0 <= i - dy < H and 0 <= j - dx < W:
                out[i, j] = image[i - dy, j - dx]
    return out


def shift_slices(image, dy, dx):
    H, W = image.shape
    out = np.zeros_like(image)
    if abs(dy) < H and abs(dx) < W:
        out[max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
            image[max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
    return out


def shift_pad(image, dy, dx):
    H, W = image.shape
    padded = np.pad(image, ((H, H), (W, W)))
    return padded[H - dy:2 * H - dy, W - dx:2 * W - dx]


CORRECT = [
    (checks.check_softmax_cross_entropy, cross_entropy_stable),
    (checks.check_softmax_cross_entropy, cross_entropy_loops),
    (checks.check_softmax_cross_entropy, softmax_cross_entropy),
    (checks.check_softmax_cross_entropy, lambda z, t: list(softmax_cross_entropy(z, t))),
    (checks.check_shift_image, shift_loops),
    (checks.check_shift_image, shift_slices),
    (checks.check_shift_image, shift_pad),
    (checks.check_shift_image, lambda im, dy, dx: shift_images(im[None, None], np.array([[dy, dx]]))[0, 0]),
]


def _cross_entropy_naive(logits, labels):
    N = logits.shape[0]
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    d = p.copy()
    d[np.arange(N), labels] -= 1
    return -np.log(p[np.arange(N), labels]).mean(), d / N


def _with(loss=None, grad=None):
    def fn(z, t):
        right = cross_entropy_stable(z, t)
        return (right[0] if loss is None else loss(z, t, right[0]),
                right[1] if grad is None else grad(z, t, right[1]))
    return fn


def _grad_without_onehot(z, t, d):
    d = d.copy()
    d[np.arange(len(t)), t] += 1 / len(t)
    return d


# Plausible wrong answers: at least two for each check.
WRONG = {
    "cross-entropy without the max subtracted (overflows)": (checks.check_softmax_cross_entropy, _cross_entropy_naive),
    "cross-entropy summed, not averaged": (checks.check_softmax_cross_entropy, _with(loss=lambda z, t, v: v * len(t))),
    "gradient not divided by N": (checks.check_softmax_cross_entropy, _with(grad=lambda z, t, d: d * len(t))),
    "gradient without the one-hot": (checks.check_softmax_cross_entropy, _with(grad=_grad_without_onehot)),
    "gradient with the wrong sign": (checks.check_softmax_cross_entropy, _with(grad=lambda z, t, d: -d)),
    "loss per row, not one number": (checks.check_softmax_cross_entropy, _with(
        loss=lambda z, t, v: -(z - z.max(1, keepdims=True))[np.arange(len(t)), t]
        + np.log(np.exp(z - z.max(1, keepdims=True)).sum(1)))),
    "(dlogits, loss) in the wrong order": (checks.check_softmax_cross_entropy, lambda z, t: cross_entropy_stable(z, t)[::-1]),
    "shift with np.roll (wraps round)": (checks.check_shift_image, lambda im, dy, dx: np.roll(im, (dy, dx), axis=(0, 1))),
    "shift with dy and dx swapped": (checks.check_shift_image, lambda im, dy, dx: shift_loops(im, dx, dy)),
    "shift the wrong way": (checks.check_shift_image, lambda im, dy, dx: shift_loops(im, -dy, -dx)),
    "shift only along rows": (checks.check_shift_image, lambda im, dy, dx: shift_loops(im, dy, 0)),
    "shift by slices, wrong at a whole-image shift": (checks.check_shift_image, lambda im, dy, dx: (
        shift_slices(im, dy, dx) if abs(dy) < im.shape[0] and abs(dx) < im.shape[1] else im)),
}

ALL_CHECKS = [checks.check_softmax_cross_entropy, checks.check_shift_image]


(test_correct_answer_passes, test_wrong_answer_is_caught,
 test_every_check_catches_at_least_two_wrong_answers) = contract_tests(CORRECT, WRONG, ALL_CHECKS, ignore_runtime_warnings=True)
test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)



@pytest.mark.parametrize("check, first", [
    (checks.check_softmax_cross_entropy, "logits = array of shape (1, 2)"),
    (checks.check_shift_image, "dy=1, dx=0:\n    image = array of shape (3, 3)")])
def test_stub_reports_the_exception_on_the_smallest_case(check, first, capsys):
    assert check(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError: write this function" in out and first in out


def test_the_overflow_case_is_caught_with_a_clear_reason(capsys):
    with np.errstate(all="ignore"):
        checks.check_softmax_cross_entropy(_cross_entropy_naive)
    out = capsys.readouterr().out
    assert "loss:" in out and "nan" in out


def test_the_wrong_part_is_named(capsys):
    checks.check_softmax_cross_entropy(WRONG["gradient not divided by N"][1])
    assert "(dlogits:" in capsys.readouterr().out


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_cases_are_deterministic(check, capsys):
    check(_stub, seed=3)
    first = capsys.readouterr().out
    check(_stub, seed=3)
    assert capsys.readouterr().out == first


def test_some_logits_overflow_a_naive_exp():
    # The check must contain cases where exp() overflows, or the stability requirement is untested.
    with np.errstate(all="ignore"):
        assert checks.check_softmax_cross_entropy(_cross_entropy_naive, n_cases=4) is False
    assert checks.check_softmax_cross_entropy(_cross_entropy_naive, n_cases=3) is True
