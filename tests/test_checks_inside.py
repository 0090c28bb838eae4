"""Tests for convlib.checks.inside (the exercises of notebook 08): each check passes correct answers,
catches at least two plausible wrong ones, reports the smallest failing case and never raises.
The reference answers are themselves checked against brute force: the receptive field by
backpropagating one output unit through convlib's conv and pooling, the calibration error by a loop."""
import numpy as np
import pytest

from convlib import checks, conv2d_backward, pool2d_backward
from convlib.checks import inside
from checkkit import contract_tests, robustness_tests, stub as _stub

# ---------------------------------------------------------------------------------------------
# Correct answers, written the way a reader would.


def receptive_field_ok(layers):
    size, jump = 1, 1
    for k, s in layers:
        size += (k - 1) * jump
        jump *= s
    return size


def receptive_field_backwards(layers):
    """Walk back from the last layer: a window of r units needs (r - 1)*s + k units below it."""
    r = 1
    for k, s in reversed(layers):
        r = (r - 1) * s + k
    return r


def receptive_field_by_backprop(layers, width=200):
    """What convlib says: the span from the first to the last input pixel whose gradient is non-zero
    for one output unit (a stride larger than its kernel skips pixels inside the span).

    Run an all-ones (1, 1, 1, width) input forward through the layers, each a conv with an all-ones
    kernel (or a mean pooling), then backpropagate a 1 at output position 0.
    """
    xs, x = [], np.ones((1, 1, 1, width))
    for i, (k, s) in enumerate(layers):
        xs.append(x)
        out_w = (x.shape[3] - k) // s + 1
        x = np.ones((1, 1, 1, out_w))
    dout = np.zeros_like(x)
    dout[..., 0] = 1.0
    for i, (k, s) in reversed(list(enumerate(layers))):
        if i % 2:  # alternate conv and pooling, to exercise both backward passes
            dout = pool2d_backward(dout, xs[i], (1, k), (1, s), mode="mean")
        else:
            dout = conv2d_backward(dout, xs[i], np.ones((1, 1, 1, k)), stride=(1, s))[0]
    reached = np.flatnonzero(dout[0, 0, 0])
    return int(reached[-1] - reached[0] + 1)


def ece_loop(probs, labels, n_bins):
    N = len(labels)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members = [n for n in range(N) if lo < probs[n].max() <= hi]
        if members:
            acc = np.mean([np.argmax(probs[n]) == labels[n] for n in members])
            conf = np.mean([probs[n].max() for n in members])
            total += len(members) / N * abs(acc - conf)
    return total


def ece_digitize(probs, labels, n_bins):
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        m = bins == b
        ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return ece


CORRECT = [
    (checks.check_receptive_field, receptive_field_ok),
    (checks.check_receptive_field, receptive_field_backwards),
    (checks.check_calibration_error, ece_loop),
    (checks.check_calibration_error, ece_digitize),
]


def _ece_unweighted(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    gaps = [abs(correct[bins == b].mean() - conf[bins == b].mean()) for b in np.unique(bins)]
    return float(np.mean(gaps))


def _ece_true_class(probs, labels, n_bins):
    """Confidence taken as the probability of the true class instead of the largest one."""
    conf, correct = probs[np.arange(len(labels)), labels], probs.argmax(axis=1) == labels
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return sum((bins == b).mean() * abs(correct[bins == b].mean() - conf[bins == b].mean()) for b in np.unique(bins))


def _rf_stride_first(layers):
    """Multiplies the jump by a layer's own stride before using it."""
    size, jump = 1, 1
    for k, s in layers:
        jump *= s
        size += (k - 1) * jump
    return size


WRONG = {
    "receptive field adds kernels": (checks.check_receptive_field, lambda layers: sum(k for k, _ in layers) or 1),
    "receptive field ignores strides": (checks.check_receptive_field,
                                        lambda layers: 1 + sum(k - 1 for k, _ in layers)),
    "receptive field uses its own stride": (checks.check_receptive_field, _rf_stride_first),
    "receptive field as a float": (checks.check_receptive_field, lambda layers: float(receptive_field_ok(layers))),
    "ece without the weights": (checks.check_calibration_error, _ece_unweighted),
    "ece without abs": (checks.check_calibration_error,
                        lambda p, y, n: abs(float(np.mean(p.argmax(1) == y) - p.max(1).mean()))),
    "ece with the true class's probability": (checks.check_calibration_error, _ece_true_class),
    "ece of one bin too many": (checks.check_calibration_error, lambda p, y, n: ece_loop(p, y, n + 1)),
}

ALL_CHECKS = [checks.check_receptive_field, checks.check_calibration_error]


def test_exported_from_the_package():
    for check in ALL_CHECKS:
        assert getattr(inside, check.__name__) is check
        assert check.__name__ in checks.__all__


@pytest.mark.parametrize("layers", [[], [(5, 1)], [(5, 1), (2, 2)], [(5, 1), (2, 2), (5, 1)],
                                    [(5, 1), (2, 2), (5, 1), (2, 2)], [(3, 2), (3, 2), (3, 2)],
                                    [(1, 3), (4, 1)], [(7, 3), (2, 2), (3, 1), (5, 2), (2, 1)]])
def test_reference_receptive_field_is_what_backprop_reaches(layers):
    assert inside._receptive_field(layers) == receptive_field_by_backprop(layers)


def test_course_cnn_receptive_fields():
    assert inside._receptive_field([(5, 1), (2, 2), (5, 1)]) == 14
    assert inside._receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)]) == 16


def test_reference_calibration_error_is_the_loop():
    rng = np.random.default_rng(1)
    for _ in range(10):
        probs = rng.dirichlet(np.full(5, 0.4), size=50)
        labels = rng.integers(0, 5, 50)
        for n_bins in (1, 3, 10):
            assert inside._calibration_error(probs, labels, n_bins) == pytest.approx(ece_loop(probs, labels, n_bins))


def test_calibration_error_extremes():
    one_hot = np.eye(4)[[0, 1, 2, 3, 1]]
    assert inside._calibration_error(one_hot, np.array([0, 1, 2, 3, 1]), 10) == 0.0
    assert inside._calibration_error(one_hot, np.array([1, 2, 3, 0, 0]), 10) == 1.0


(test_correct_answer_passes, test_wrong_answer_is_caught,
 test_every_check_catches_at_least_two_wrong_answers) = contract_tests(CORRECT, WRONG, ALL_CHECKS, wrong_may_raise=True)
test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)



def test_stub_reports_the_smallest_case(capsys):
    assert checks.check_receptive_field(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError" in out and "on the case layers=[]" in out
    assert checks.check_calibration_error(_stub) is False
    out = capsys.readouterr().out
    assert "raised NotImplementedError" in out and "n_bins=2" in out and "0.9" in out


def test_smallest_failing_case_is_reported(capsys):
    checks.check_receptive_field(WRONG["receptive field ignores strides"][1])
    out = capsys.readouterr().out
    assert "first failing case layers=[(2, 2), (3, 1)]" in out and "expected 6" in out


def test_answers_may_be_numpy_scalars():
    assert checks.check_receptive_field(lambda layers: np.int64(receptive_field_ok(layers))) is True
    assert checks.check_calibration_error(lambda *a: np.array(ece_loop(*a))) is True


def test_float_receptive_field_is_refused_with_a_hint(capsys):
    assert checks.check_receptive_field(WRONG["receptive field as a float"][1]) is False
    assert "use //" in capsys.readouterr().out


def test_calibration_cases_cover_edges_and_both_kinds_of_model():
    seen = []
    checks.check_calibration_error(lambda p, y, n: (seen.append((p.copy(), y.copy(), n)), ece_loop(p, y, n))[1])
    assert len(seen) == 20
    assert any(p.max() == 1.0 for p, _, _ in seen)  # a confidence of exactly 1 (the last bin)
    assert any(n == 1 for _, _, n in seen) and max(n for _, _, n in seen) >= 10
    eces = [ece_loop(*c) for c in seen]
    assert min(eces) == 0.0 and max(eces) == 1.0 and any(0.2 < e < 0.5 for e in eces)
    for p, y, _ in seen:
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        assert y.dtype.kind == "i" and y.min() >= 0 and y.max() < p.shape[1]


def test_checks_are_deterministic(capsys):
    checks.check_calibration_error(WRONG["ece without the weights"][1])
    first = capsys.readouterr().out
    checks.check_calibration_error(WRONG["ece without the weights"][1])
    assert capsys.readouterr().out == first
