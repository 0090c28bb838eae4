"""Tests for the notebook 06 checks in convlib.checks.gradients: each passes correct answers,
catches plausible wrong ones (at least two per check), reports the smallest failing case first,
and never raises."""
import contextlib
import io

import numpy as np
import pytest

from convlib import checks, conv1d_backward, conv2d_backward, im2col, pool2d_backward
from checkkit import any_seed_test, contract_tests, robustness_tests, stub as _stub

# ---------------------------------------------------------------------------------------------
# Correct answers, written the way a reader would.


def conv1d_backward_loops(dout, x, w):
    # out[i] = sum_k x[i + k] w[k]: every output sends dout[i] * w back to its window.
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dout.shape[0]):
        for k in range(w.shape[0]):
            dx[i + k] += dout[i] * w[k]
            dw[k] += dout[i] * x[i + k]
    return dx, dw


def conv1d_backward_numpy(dout, x, w):
    # dx: full convolution of dout with w (np.convolve flips); dw: valid correlation of x with dout.
    return np.convolve(dout, w, "full"), np.correlate(x, dout, "valid")


def max_pool_backward_loops(dout, x, size):
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = x[i * size:(i + 1) * size, j * size:(j + 1) * size]
            r, c = np.unravel_index(np.argmax(window), window.shape)
            dx[i * size + r, j * size + c] += dout[i, j]
    return dx


def max_pool_backward_mask(dout, x, size):
    OH, OW = dout.shape
    core = x[:OH * size, :OW * size]
    win_max = core.reshape(OH, size, OW, size).max(axis=(1, 3))
    winners = core == np.repeat(np.repeat(win_max, size, 0), size, 1)  # no ties, so one per window
    dx = np.zeros_like(x)
    dx[:OH * size, :OW * size] = winners * np.repeat(np.repeat(dout, size, 0), size, 1)
    return dx


def conv2d_dw_loops(dout, x, w):
    F, C, KH, KW = w.shape
    N, _, OH, OW = dout.shape
    dw = np.zeros(w.shape)
    for f in range(F):
        for c in range(C):
            for kh in range(KH):
                for kw in range(KW):
                    dw[f, c, kh, kw] = np.sum(dout[:, f] * x[:, c, kh:kh + OH, kw:kw + OW])
    return dw


def conv2d_dw_im2col(dout, x, w):
    F = w.shape[0]
    cols = im2col(x, w.shape[2:])                      # (N*OH*OW, C*KH*KW)
    d = dout.transpose(0, 2, 3, 1).reshape(-1, F)      # (N*OH*OW, F)
    return (cols.T @ d).T.reshape(w.shape)             # (F, C, KH, KW)


CORRECT = [
    (checks.check_conv1d_backward, conv1d_backward_loops),
    (checks.check_conv1d_backward, conv1d_backward_numpy),
    (checks.check_conv1d_backward, lambda d, x, w: list(conv1d_backward(d, x, w)[:2])),
    (checks.check_max_pool_backward, max_pool_backward_loops),
    (checks.check_max_pool_backward, max_pool_backward_mask),
    (checks.check_max_pool_backward, lambda d, x, s: pool2d_backward(d[None, None], x[None, None], s)[0, 0]),
    (checks.check_conv2d_dw, conv2d_dw_loops),
    (checks.check_conv2d_dw, conv2d_dw_im2col),
    (checks.check_conv2d_dw, lambda d, x, w: conv2d_backward(d, x, w)[1]),
]


def _pool_with(mode):
    return lambda d, x, s: pool2d_backward(d[None, None], x[None, None], s, mode=mode)[0, 0]


def _dx_dw(dx_fn, dw_fn):
    return lambda d, x, w: (dx_fn(d, x, w), dw_fn(d, x, w))


def _max_pool_offset_bug(dout, x, size):
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = x[i * size:(i + 1) * size, j * size:(j + 1) * size]
            r, c = np.unravel_index(np.argmax(window), window.shape)
            dx[i + r, j + c] += dout[i, j]  # should be i*size + r, j*size + c
    return dx


def _right_dx(d, x, w):
    return np.convolve(d, w, "full")


def _right_dw(d, x, w):
    return np.correlate(x, d, "valid")


# Plausible wrong answers: at least two for each check.
WRONG = {
    "dx correlates (kernel not flipped)": (checks.check_conv1d_backward, _dx_dw(lambda d, x, w: np.convolve(d, w[::-1], "full"), _right_dw)),
    "dx 'same' instead of 'full'": (checks.check_conv1d_backward, _dx_dw(lambda d, x, w: np.convolve(d, w, "same"), _right_dw)),
    "dw convolves (dout flipped)": (checks.check_conv1d_backward, _dx_dw(_right_dx, lambda d, x, w: np.convolve(x, d, "valid"))),
    "dw as if dout were all ones": (checks.check_conv1d_backward, _dx_dw(_right_dx, lambda d, x, w: np.correlate(x, np.ones_like(d), "valid"))),
    "(dw, dx) in the wrong order": (checks.check_conv1d_backward, lambda d, x, w: conv1d_backward_numpy(d, x, w)[::-1]),
    "only dx returned": (checks.check_conv1d_backward, _right_dx),
    "max pool spreads like mean": (checks.check_max_pool_backward, _pool_with("mean")),
    "max pool copies to the whole window": (checks.check_max_pool_backward, _pool_with("sum")),
    "max pool sends 1, not dout": (checks.check_max_pool_backward, lambda d, x, s: max_pool_backward_loops(np.ones_like(d), x, s)),
    "max pool routes to the minimum": (checks.check_max_pool_backward, lambda d, x, s: max_pool_backward_loops(d, -x, s)),
    "max pool offsets windows by i, not i*size": (checks.check_max_pool_backward, lambda d, x, s: _max_pool_offset_bug(d, x, s)),
    "dw from the first image only": (checks.check_conv2d_dw, lambda d, x, w: conv2d_dw_loops(d[:1], x[:1], w)),
    "dw averaged over the batch": (checks.check_conv2d_dw, lambda d, x, w: conv2d_dw_loops(d, x, w) / x.shape[0]),
    "dw flipped (a convolution)": (checks.check_conv2d_dw, lambda d, x, w: conv2d_dw_loops(d, x, w)[:, :, ::-1, ::-1]),
    "dw with (C, F) swapped": (checks.check_conv2d_dw, lambda d, x, w: conv2d_dw_loops(d, x, w).transpose(1, 0, 2, 3)),
    "dw im2col reshaped without the transpose": (checks.check_conv2d_dw, lambda d, x, w: (
        im2col(x, w.shape[2:]).T @ d.transpose(0, 2, 3, 1).reshape(-1, w.shape[0])).reshape(w.shape)),
}

ALL_CHECKS = [checks.check_conv1d_backward, checks.check_max_pool_backward, checks.check_conv2d_dw]


(test_correct_answer_passes, test_wrong_answer_is_caught,
 test_every_check_catches_at_least_two_wrong_answers) = contract_tests(CORRECT, WRONG, ALL_CHECKS)
test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)
test_any_seed_accepts_right_and_rejects_wrong = any_seed_test([
    (checks.check_conv1d_backward, conv1d_backward_loops,
     [WRONG["dx correlates (kernel not flipped)"][1], WRONG["dw convolves (dout flipped)"][1]]),
    (checks.check_max_pool_backward, max_pool_backward_loops, [WRONG["max pool spreads like mean"][1]]),
    (checks.check_conv2d_dw, conv2d_dw_im2col, [WRONG["dw flipped (a convolution)"][1]]),
], max_examples=15)



def test_stub_reports_the_exception_on_the_smallest_case(capsys):
    assert checks.check_conv1d_backward(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError: write this function" in out
    assert "x = array of shape (3,)" in out and "w = array of shape (2,)" in out


@pytest.mark.parametrize("check, size", [(checks.check_max_pool_backward, "x = array of shape (2, 2)"),
                                         (checks.check_conv2d_dw, "x = array of shape (1, 1, 3, 3)")])
def test_smallest_case_comes_first(check, size, capsys):
    check(_stub)
    assert size in capsys.readouterr().out


def test_the_wrong_array_is_named(capsys):
    checks.check_conv1d_backward(WRONG["dw convolves (dout flipped)"][1])
    out = capsys.readouterr().out
    assert "(dw: " in out and "(dx: " not in out
    checks.check_conv1d_backward(WRONG["dx correlates (kernel not flipped)"][1])
    assert "(dx: " in capsys.readouterr().out


def test_a_tuple_of_the_wrong_length_is_explained(capsys):
    checks.check_conv1d_backward(lambda d, x, w: (*conv1d_backward(d, x, w),))  # (dx, dw, db)
    assert "expected a tuple of 2 arrays (dx, dw), got 3 items" in capsys.readouterr().out


def test_a_failing_case_shows_expected_and_got(capsys):
    checks.check_max_pool_backward(WRONG["max pool spreads like mean"][1])
    out = capsys.readouterr().out
    assert "first failing case size=2" in out
    assert "expected array of shape (2, 2)" in out and "got      array of shape (2, 2)" in out


def test_cases_are_never_symmetric_kernels_and_have_no_ties():
    # The flip is only caught if kernels are asymmetric, argmax only well defined without ties.
    flips, ties = [], []
    checks.check_conv1d_backward(lambda d, x, w: flips.append(np.array_equal(w, w[::-1])))
    checks.check_max_pool_backward(lambda d, x, s: ties.append(np.unique(x).size < x.size))
    assert flips == [False] and ties == [False]  # each stops at its first (failing) case
    with contextlib.redirect_stdout(io.StringIO()):
        seen = []

        def record(d, x, w):
            seen.append(np.array_equal(w, w[::-1]) or 0.0 in w)
            return conv1d_backward_numpy(d, x, w)

        assert checks.check_conv1d_backward(record)
    assert len(seen) == 20 and not any(seen)


def test_reader_writing_into_its_inputs_does_not_corrupt_the_reference():
    def vandal(dout, x, w):
        answer = conv1d_backward_loops(dout, x, w)
        dout[...], x[...], w[...] = 0.0, 0.0, 0.0
        return answer

    with contextlib.redirect_stdout(io.StringIO()):
        assert checks.check_conv1d_backward(vandal) is True


def test_checks_are_deterministic(capsys):
    for check, fn in (WRONG["dw from the first image only"], WRONG["max pool routes to the minimum"]):
        check(fn)
        first = capsys.readouterr().out
        check(fn)
        assert capsys.readouterr().out == first


def test_the_loop_answer_reproduces_the_lecture_numbers():
    # x = [0, 1, 2, 3, 4, 5, 0] is the lecture's padded signal, w = [1, 1, 1], dout = ones.
    x, w = np.array([0.0, 1, 2, 3, 4, 5, 0]), np.ones(3)
    dx, dw = conv1d_backward_loops(np.ones(5), x, w)
    np.testing.assert_array_equal(dx[1:-1], [2, 3, 3, 3, 2])
    np.testing.assert_array_equal(dw, [10, 15, 14])


