"""The contract every exercise check in ``convlib.checks`` keeps, as tests shared by the
``test_checks*.py`` files: a right answer passes with ✓, each wrong answer fails with ✗ and shows
expected and got, and each check is shown to catch at least two plausible wrong answers.

A test module builds its data (``CORRECT``: (check, fn) pairs; ``WRONG``: name -> (check, fn);
``ALL_CHECKS``) and then binds the tests to module-level names so pytest collects them::

    test_correct_answer_passes, test_wrong_answer_is_caught, \\
        test_every_check_catches_at_least_two_wrong_answers = contract_tests(CORRECT, WRONG, ALL_CHECKS)
    test_never_raises, test_a_bad_check_argument_is_reported_not_raised = robustness_tests(ALL_CHECKS)
    test_any_seed_accepts_right_and_rejects_wrong = any_seed_test([(check, right, [wrong, ...]), ...], 20)
"""
import contextlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def stub(*args):
    """What an exercise cell holds before the reader writes it."""
    raise NotImplementedError("write this function")


class Unprintable:
    """An answer that can neither be printed nor turned into an array."""

    def __repr__(self):
        raise RuntimeError("no repr")

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no array")


# Answers no check may choke on: each must give a ✗ line, never an exception.
GARBAGE = {
    "stub": stub, "none": lambda *a: None, "str": lambda *a: "garbage", "shape": lambda *a: np.zeros((2, 3, 4)),
    "tuple": lambda *a: (1, 2, 3), "nones": lambda *a: (None, None), "ragged": lambda *a: [[1, 2], [3]],
    "zerodiv": lambda *a: 1 / 0, "unprintable": lambda *a: Unprintable(),
    "unprintable-pair": lambda *a: (Unprintable(), Unprintable()), "array": lambda *a: np.zeros((2, 3)),
    "bool": lambda *a: True, "int": 42, "None": None,
}


def contract_tests(correct, wrong, all_checks, wrong_may_raise=False, ignore_runtime_warnings=False):
    """The three contract tests for one module's checks.

    ``wrong_may_raise``: a wrong answer that raises may be reported with the exception ("raised")
    instead of expected/got. ``ignore_runtime_warnings``: wrong answers may overflow on purpose.
    """

    @pytest.mark.parametrize("check, fn", correct)
    def test_correct_answer_passes(check, fn, capsys):
        assert check(fn) is True
        out = capsys.readouterr().out
        assert out.startswith("✓") and "all 20 cases agree" in out

    @pytest.mark.parametrize("name", sorted(wrong))
    def test_wrong_answer_is_caught(name, capsys):
        check, fn = wrong[name]
        assert check(fn) is False, name
        out = capsys.readouterr().out
        explained = ("expected" in out and "got" in out) or (wrong_may_raise and ("expected" in out or "raised" in out))
        assert out.startswith("✗") and explained

    if ignore_runtime_warnings:
        test_wrong_answer_is_caught = pytest.mark.filterwarnings("ignore::RuntimeWarning")(test_wrong_answer_is_caught)

    @pytest.mark.parametrize("check", all_checks)
    def test_every_check_catches_at_least_two_wrong_answers(check):
        assert sum(c is check for c, _ in wrong.values()) >= 2

    return test_correct_answer_passes, test_wrong_answer_is_caught, test_every_check_catches_at_least_two_wrong_answers


def robustness_tests(all_checks):
    """Two tests for one module's checks: no garbage answer makes a check raise (each gives a ✗
    line), and a bad argument to the check itself is reported, not raised."""

    @pytest.mark.parametrize("check", all_checks)
    @pytest.mark.parametrize("fn", list(GARBAGE.values()), ids=list(GARBAGE))
    def test_never_raises(check, fn, capsys):
        assert check(fn) is False
        assert capsys.readouterr().out.startswith("✗")

    @pytest.mark.parametrize("check", all_checks)
    def test_a_bad_check_argument_is_reported_not_raised(check, capsys):
        assert check(stub, n_cases="many") is False
        assert "could not run the check" in capsys.readouterr().out

    return test_never_raises, test_a_bad_check_argument_is_reported_not_raised


def any_seed_test(cases, max_examples):
    """A Hypothesis test: for any seed, each check accepts its right answer and rejects each wrong
    one. ``cases``: list of (check, right_fn, [wrong_fn, ...])."""

    @settings(max_examples=max_examples, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_any_seed_accepts_right_and_rejects_wrong(seed):
        with contextlib.redirect_stdout(io.StringIO()):
            for check, right, wrongs in cases:
                assert check(right, seed=seed), check.__name__
                for wrong in wrongs:
                    assert not check(wrong, seed=seed), check.__name__

    return test_any_seed_accepts_right_and_rejects_wrong
