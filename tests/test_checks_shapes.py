"""Tests for convlib.checks.shapes (the exercises of notebooks 04 and 05): each check passes correct
answers, catches at least two plausible wrong ones, reports the smallest failing case, never raises."""

import numpy as np

from convlib import checks, conv2d, output_size, pool2d
from convlib.checks import shapes
from checkkit import any_seed_test, contract_tests, robustness_tests, stub as _stub

# ---------------------------------------------------------------------------------------------
# Correct answers, written the way a reader would.


def conv_shape_ok(x_shape, w_shape, stride, padding, dilation):
    N, C, H, W = x_shape
    F, _, KH, KW = w_shape
    OH = (H + 2 * padding - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + 2 * padding - dilation * (KW - 1) - 1) // stride + 1
    return (N, F, OH, OW)


def conv_shape_by_running(x_shape, w_shape, stride, padding, dilation):
    """Let conv2d tell: run it on a tiny batch (N=1, C=1, F=1) and read the shape."""
    N, _, H, W = x_shape
    F, _, KH, KW = w_shape
    out = conv2d(np.zeros((1, 1, H, W)), np.zeros((1, 1, KH, KW)), stride=stride, padding=padding, dilation=dilation)
    return (N, F) + out.shape[2:]


def params_ok(in_channels, out_channels, kernel_size):
    KH, KW = kernel_size
    return out_channels * in_channels * KH * KW + out_channels


def same_padding_ok(kernel_size, dilation):
    return dilation * (kernel_size - 1) // 2


def same_padding_search(kernel_size, dilation):
    """Try paddings until the size stays the same."""
    return next(p for p in range(100) if output_size(50, kernel_size, 1, p, dilation) == 50)


def max_pool_loop(x, kernel_size, stride):
    H, W = x.shape
    OH, OW = (H - kernel_size) // stride + 1, (W - kernel_size) // stride + 1
    out = np.zeros((OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[i, j] = x[i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size].max()
    return out


def pool_size_ok(size, kernel_size, stride):
    if stride is None:
        stride = kernel_size
    return (size - kernel_size) // stride + 1


CORRECT = [
    (checks.check_conv_output_shape, conv_shape_ok),
    (checks.check_conv_output_shape, conv_shape_by_running),
    (checks.check_param_count, params_ok),
    (checks.check_same_padding, same_padding_ok),
    (checks.check_same_padding, same_padding_search),
    (checks.check_max_pool, max_pool_loop),
    (checks.check_max_pool, lambda x, k, s: pool2d(x[None, None], k, s)[0, 0]),
    (checks.check_pool_output_size, pool_size_ok),
    (checks.check_pool_output_size, lambda n, k, s: output_size(n, k, s or k)),
]


def _max_pool_from_zero(x, k, s):
    """A running maximum started at 0 instead of at the first value."""
    return np.maximum(max_pool_loop(x, k, s), 0.0)


# Plausible wrong answers: at least two for each check.
WRONG = {
    "conv shape ignores dilation": (checks.check_conv_output_shape, lambda x, w, s, p, d: conv_shape_ok(x, w, s, p, 1)),
    "conv shape keeps the input channels": (checks.check_conv_output_shape, lambda x, w, s, p, d: (x[0], x[1]) + conv_shape_ok(x, w, s, p, d)[2:]),
    "conv shape with H and W swapped": (checks.check_conv_output_shape, lambda x, w, s, p, d: conv_shape_ok(x, w, s, p, d)[:2] + conv_shape_ok(x, w, s, p, d)[:1:-1]),
    "conv shape pads one side": (checks.check_conv_output_shape, lambda x, w, s, p, d: conv_shape_ok((x[0], x[1], x[2] - p, x[3] - p), w, s, p, d)),
    "conv shape with / (floats)": (checks.check_conv_output_shape, lambda x, w, s, p, d: tuple(float(v) for v in conv_shape_ok(x, w, s, p, d))),
    "params without biases": (checks.check_param_count, lambda ci, co, k: co * ci * k[0] * k[1]),
    "params forget the input channels": (checks.check_param_count, lambda ci, co, k: co * (k[0] * k[1] + 1)),
    "params with a bias per input channel": (checks.check_param_count, lambda ci, co, k: co * ci * (k[0] * k[1] + 1)),
    "params with a square kernel KH*KH": (checks.check_param_count, lambda ci, co, k: co * (ci * k[0] * k[0] + 1)),
    "same padding ignores dilation": (checks.check_same_padding, lambda k, d: (k - 1) // 2),
    "same padding not halved": (checks.check_same_padding, lambda k, d: d * (k - 1)),
    "same padding with / (a float)": (checks.check_same_padding, lambda k, d: d * (k - 1) / 2),
    "same padding (d*k - 1) // 2": (checks.check_same_padding, lambda k, d: (d * k - 1) // 2),
    "max pool ignores the stride": (checks.check_max_pool, lambda x, k, s: max_pool_loop(x, k, k)),
    "max pool is a mean pool": (checks.check_max_pool, lambda x, k, s: pool2d(x[None, None], k, s, "mean")[0, 0]),
    "max pool misses the last window": (checks.check_max_pool, lambda x, k, s: max_pool_loop(x, k, s)[:-1, :-1]),
    "max pool starts its maximum at 0": (checks.check_max_pool, _max_pool_from_zero),
    "max pool transposed": (checks.check_max_pool, lambda x, k, s: max_pool_loop(x.T, k, s).T[::-1]),
    "pool size ignores None": (checks.check_pool_output_size, lambda n, k, s: (n - k) // s + 1),
    "pool size size // kernel": (checks.check_pool_output_size, lambda n, k, s: n // k),
    "pool size off by one": (checks.check_pool_output_size, lambda n, k, s: (n - k) // (s or k)),
    "pool size with / (a float)": (checks.check_pool_output_size, lambda n, k, s: (n - k) / (s or k) + 1),
}

ALL_CHECKS = [checks.check_conv_output_shape, checks.check_param_count, checks.check_same_padding,
              checks.check_max_pool, checks.check_pool_output_size]


def test_exported_from_the_package():
    for check in ALL_CHECKS:
        assert getattr(shapes, check.__name__) is check
        assert check.__name__ in checks.__all__


(test_correct_answer_passes, test_wrong_answer_is_caught,
 test_every_check_catches_at_least_two_wrong_answers) = contract_tests(CORRECT, WRONG, ALL_CHECKS, wrong_may_raise=True)
test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)
test_any_seed_accepts_right_and_rejects_wrong = any_seed_test([
    (checks.check_conv_output_shape, conv_shape_ok, [WRONG["conv shape keeps the input channels"][1]]),
    (checks.check_param_count, params_ok, [WRONG["params without biases"][1]]),
    (checks.check_same_padding, same_padding_ok, [WRONG["same padding ignores dilation"][1]]),
    (checks.check_max_pool, max_pool_loop, [WRONG["max pool ignores the stride"][1]]),
    (checks.check_pool_output_size, pool_size_ok, [WRONG["pool size ignores None"][1]]),
], max_examples=15)



def test_stub_reports_the_smallest_case(capsys):
    assert checks.check_pool_output_size(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError" in out and "on the case size=2, kernel_size=1, stride=1" in out
    assert checks.check_max_pool(_stub) is False
    out = capsys.readouterr().out
    assert "kernel_size=2, stride=2" in out and "shape (4, 4)" in out


def test_smallest_failing_case_is_reported(capsys):
    checks.check_same_padding(WRONG["same padding ignores dilation"][1])
    out = capsys.readouterr().out
    assert "first failing case kernel_size=3, dilation=2" in out and "expected 2" in out


def test_float_answers_are_refused_with_a_hint(capsys):
    assert checks.check_pool_output_size(lambda n, k, s: float(pool_size_ok(n, k, s))) is False
    assert "use //" in capsys.readouterr().out


def test_numpy_integers_count_as_answers():
    assert checks.check_param_count(lambda *a: np.int64(params_ok(*a))) is True
    assert checks.check_conv_output_shape(lambda *a: np.array(conv_shape_ok(*a))) is True


def test_lecture_and_course_numbers():
    assert conv_shape_ok((1000, 3, 24, 24), (4, 3, 3, 3), 1, 0, 1) == (1000, 4, 22, 22)
    assert params_ok(1, 16, (5, 5)) == 416 and params_ok(16, 32, (5, 5)) == 12_832
    for k in (1, 3, 5, 7):
        for d in (1, 2, 3):
            assert output_size(13, k, 1, same_padding_ok(k, d), d) == 13


def test_max_pool_cases_include_all_negative_overlapping_and_gapped_windows(capsys):
    seen = []
    checks.check_max_pool(lambda x, k, s: (seen.append((x.copy(), k, s)), max_pool_loop(x, k, s))[1])
    assert len(seen) == 20
    assert any((x < 0).all() for x, _, _ in seen)
    assert any(s < k for _, k, s in seen) and any(s > k for _, k, s in seen)
    assert any(x.shape[0] != x.shape[1] for x, _, _ in seen)


def test_checks_are_deterministic(capsys):
    checks.check_conv_output_shape(WRONG["conv shape ignores dilation"][1])
    first = capsys.readouterr().out
    checks.check_conv_output_shape(WRONG["conv shape ignores dilation"][1])
    assert capsys.readouterr().out == first


