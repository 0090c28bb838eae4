"""Tests for convlib.checks: each check passes a correct answer, catches plausible wrong ones
(at least two per check), reports the smallest failing case, and never raises."""

import numpy as np

from convlib import checks, conv2d, im2col, make_patches, output_size
from convlib.filters import diagonal_edge
from checkkit import any_seed_test, contract_tests, robustness_tests, stub as _stub

# ---------------------------------------------------------------------------------------------
# Correct answers, written the way a reader would.


def weights_ok(image_size, patch_size, stride, units):
    positions = (image_size - patch_size) // stride + 1
    return units * (patch_size**2 + 1), units * positions**2


def output_size_ok(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def patches_loop(image, size, stride):
    H, W = image.shape
    OH, OW = (H - size) // stride + 1, (W - size) // stride + 1
    out = np.zeros((OH, OW, size, size))
    for i in range(OH):
        for j in range(OW):
            out[i, j] = image[i * stride:i * stride + size, j * stride:j * stride + size]
    return out


def feature_map_loop(image, kernel):
    (H, W), (KH, KW) = image.shape, kernel.shape
    out = np.zeros((H - KH + 1, W - KW + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + KH, j:j + KW] * kernel)
    return out


def diagonal_loop(size):
    k = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            k[i, j] = -1.0 if i + j < size - 1 else (1.0 if i + j > size - 1 else 0.0)
    return k


def strides_ok(shape, itemsize, kernel_size, stride):
    D, H, W = shape
    return (H * W * itemsize, stride * W * itemsize, stride * itemsize, W * itemsize, itemsize)


def im2col_loop(x, kernel_size, stride):
    N, C, H, W = x.shape
    OH, OW = (H - kernel_size) // stride + 1, (W - kernel_size) // stride + 1
    rows = [x[n, :, i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size].ravel()
            for n in range(N) for i in range(OH) for j in range(OW)]
    return np.array(rows)


CORRECT = [
    (checks.check_weight_count, weights_ok),
    (checks.check_output_size, output_size_ok),
    (checks.check_output_size, output_size),
    (checks.check_patches, patches_loop),
    (checks.check_patches, lambda img, size, stride: make_patches(img[None], size, stride)[0]),
    (checks.check_feature_map, feature_map_loop),
    (checks.check_feature_map, lambda img, k: conv2d(img[None, None], k[None, None])[0, 0]),
    (checks.check_diagonal_filter, diagonal_loop),
    (checks.check_diagonal_filter, diagonal_edge),
    (checks.check_window_strides, strides_ok),
    (checks.check_im2col, im2col_loop),
    (checks.check_im2col, im2col),
]

# Plausible wrong answers: at least two for each check.
WRONG = {
    "weights without biases": (checks.check_weight_count, lambda n, p, s, u: (u * p * p, weights_ok(n, p, s, u)[1])),
    "outputs without the +1": (checks.check_weight_count, lambda n, p, s, u: (weights_ok(n, p, s, u)[0], u * ((n - p) // s) ** 2)),
    "weights not shared": (checks.check_weight_count, lambda n, p, s, u: (weights_ok(n, p, s, u)[1] * (p * p + 1), weights_ok(n, p, s, u)[1])),
    "stride ignored in outputs": (checks.check_weight_count, lambda n, p, s, u: (weights_ok(n, p, s, u)[0], u * (n - p + 1) ** 2)),
    "output size off by one": (checks.check_output_size, lambda n, k, s, p: (n + 2 * p - k) // s),
    "output size ignores padding": (checks.check_output_size, lambda n, k, s, p: (n - k) // s + 1),
    "output size pads one side": (checks.check_output_size, lambda n, k, s, p: (n + p - k) // s + 1),
    "output size with / (a float)": (checks.check_output_size, lambda n, k, s, p: (n + 2 * p - k) / s + 1),
    "patches ignore the stride": (checks.check_patches, lambda img, size, s: patches_loop(img, size, 1)),
    "patches transposed": (checks.check_patches, lambda img, size, s: patches_loop(img, size, s).transpose(0, 1, 3, 2)),
    "patches miss the last row": (checks.check_patches, lambda img, size, s: patches_loop(img, size, s)[:-1]),
    "patches assume a square image": (checks.check_patches, lambda img, size, s: patches_loop(img[:, :img.shape[0]], size, s)),
    "feature map is a convolution (flipped)": (checks.check_feature_map, lambda img, k: feature_map_loop(img, k[::-1, ::-1])),
    "feature map with the kernel transposed": (checks.check_feature_map, lambda img, k: feature_map_loop(img, k.T)),
    "feature map off by one": (checks.check_feature_map, lambda img, k: feature_map_loop(img, k)[:-1, :-1]),
    "feature map with 'same' padding": (checks.check_feature_map, lambda img, k: conv2d(img[None, None], k[None, None], padding=(k.shape[0] // 2, k.shape[1] // 2))[0, 0]),
    "diagonal filter with the wrong sign": (checks.check_diagonal_filter, lambda n: -diagonal_loop(n)),
    "diagonal filter on the main diagonal": (checks.check_diagonal_filter, lambda n: diagonal_loop(n)[::-1]),
    "diagonal filter with -1 on the diagonal": (checks.check_diagonal_filter, lambda n: np.where(diagonal_loop(n) == 0, -1.0, diagonal_loop(n))),
    "strides in items, not bytes": (checks.check_window_strides, lambda sh, isz, k, s: tuple(v // isz for v in strides_ok(sh, isz, k, s))),
    "strides forget the stride": (checks.check_window_strides, lambda sh, isz, k, s: strides_ok(sh, isz, k, 1)),
    "strides in the wrong order": (checks.check_window_strides, lambda sh, isz, k, s: strides_ok(sh, isz, k, s)[:1] + strides_ok(sh, isz, k, s)[3:] + strides_ok(sh, isz, k, s)[1:3]),
    "im2col columns in (kh, kw, c) order": (checks.check_im2col, lambda x, k, s: im2col_loop(x, k, s).reshape(-1, x.shape[1], k * k).transpose(0, 2, 1).reshape(-1, x.shape[1] * k * k)),
    "im2col ignores the stride": (checks.check_im2col, lambda x, k, s: im2col_loop(x, k, 1)),
}

ALL_CHECKS = [checks.check_weight_count, checks.check_output_size, checks.check_patches, checks.check_feature_map,
              checks.check_diagonal_filter, checks.check_window_strides, checks.check_im2col]


(test_correct_answer_passes, test_wrong_answer_is_caught,
 test_every_check_catches_at_least_two_wrong_answers) = contract_tests(CORRECT, WRONG, ALL_CHECKS)
test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)
test_any_seed_accepts_right_and_rejects_wrong = any_seed_test([
    (checks.check_output_size, output_size_ok, [WRONG["output size off by one"][1]]),
    (checks.check_patches, patches_loop, [WRONG["patches transposed"][1]]),
    (checks.check_feature_map, feature_map_loop, [WRONG["feature map is a convolution (flipped)"][1]]),
    (checks.check_window_strides, strides_ok, [WRONG["strides forget the stride"][1]]),
], max_examples=20)




def test_stub_reports_the_exception(capsys):
    assert checks.check_patches(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError: write this function" in out
    assert "size=2, stride=1" in out  # the smallest case


def test_none_return_is_explained(capsys):
    checks.check_feature_map(lambda image, kernel: None)
    assert "return" in capsys.readouterr().out


def test_smallest_failing_case_is_reported(capsys):
    # Off by one fails on every case, so the report must show the first (smallest) one.
    checks.check_output_size(WRONG["output size off by one"][1])
    out = capsys.readouterr().out
    sizes = [int(line.split("size=")[1].split(",")[0]) for line in out.splitlines() if "first failing case" in line]
    assert sizes == [1]
    assert "expected 1" in out and "got      0" in out


def test_lecture_case_of_window_strides(capsys):
    # Only the lecture's own example is answered correctly: the check must still fail later.
    def only_lecture(shape, itemsize, kernel_size, stride):
        return (96, 32, 8, 32, 8)

    assert checks.check_window_strides(only_lecture) is False
    x = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    assert strides_ok(x.shape, x.itemsize, 2, 1) == (96, 32, 8, 32, 8)


def test_lecture_case_of_weight_count():
    assert weights_ok(28, 10, 1, 20) == (2020, 7220)


def test_reader_writing_into_its_input_does_not_corrupt_the_reference(capsys):
    def vandal(image, size, stride):
        answer = patches_loop(image, size, stride)
        image[...] = -1.0
        return answer

    assert checks.check_patches(vandal) is True


def test_float_counts_are_accepted_for_weights_but_not_for_output_size(capsys):
    assert checks.check_weight_count(lambda *a: tuple(float(v) for v in weights_ok(*a))) is True
    assert checks.check_output_size(lambda *a: float(output_size_ok(*a))) is False
    assert "use //" in capsys.readouterr().out


def test_checks_are_deterministic(capsys):
    checks.check_feature_map(WRONG["feature map off by one"][1])
    first = capsys.readouterr().out
    checks.check_feature_map(WRONG["feature map off by one"][1])
    assert capsys.readouterr().out == first


def test_numpy_integers_and_arrays_count_as_answers():
    assert checks.check_window_strides(lambda *a: np.array(strides_ok(*a))) is True
    assert checks.check_output_size(lambda *a: np.int64(output_size_ok(*a))) is True


