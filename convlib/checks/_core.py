"""The machinery every exercise check shares: run the reader's function on seeded cases, smallest
first, compare with convlib, print ✓ or the first failing case, and never raise."""
import functools
import numbers

import numpy as np

__all__ = []


def _show(x):
    """A readable repr: small arrays in full, large ones by shape; never raises."""
    try:
        if isinstance(x, np.ndarray):
            if x.size <= 40:
                text = np.array2string(x, precision=4, suppress_small=True)
                return f"array of shape {x.shape}:\n" + "\n".join(ln for ln in text.splitlines() if ln.strip())
            return f"array of shape {x.shape}, dtype {x.dtype}"
        text = repr(x)
        return text if len(text) <= 300 else text[:300] + " ..."
    except Exception:  # noqa: BLE001 - a reader's object may fail even to print itself
        return f"<{type(x).__name__} that cannot be printed>"


def _indent(text):
    return text.replace("\n", "\n      ")


def _arrays_differ(expected, got):
    """None if ``got`` has ``expected``'s shape and values (to 1e-7 relative), else the reason."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array of numbers, got {type(got).__name__}"
    if g.shape != expected.shape:
        return f"shapes differ: expected {expected.shape}, got {g.shape}"
    bad = ~np.isclose(g, expected, rtol=1e-7, atol=1e-9)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        return (f"{int(bad.sum())} values differ, first at index {idx}: "
                f"expected {expected[idx]:.6g}, got {g[idx]:.6g}")
    return None


def _ints_differ(expected, got, exact_type=True):
    """None if ``got`` equals the int or tuple of ints ``expected``, else the reason."""
    want = expected if isinstance(expected, tuple) else (expected,)
    have = tuple(got) if isinstance(expected, tuple) and isinstance(got, (tuple, list, np.ndarray)) else (got,)
    if len(have) != len(want):
        return f"expected {len(want)} numbers, got {len(have)}"
    for w, h in zip(want, have):
        if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
            return f"expected an integer, got {type(h).__name__}"
        if exact_type and not isinstance(h, numbers.Integral):
            return f"expected an integer, got {type(h).__name__} {h!r} (use // for whole-number division)"
        if h != w:
            return "values differ"
    return None


def _run(title, fn, names, cases, reference, differ):
    """Call ``fn`` on each case (tuples of arguments named ``names``), smallest first; report the first failure."""
    if not callable(fn):
        print(f"✗ {title}: expected a function, got {_show(fn)}")
        return False
    for args in cases:
        call = ", ".join(f"{n}={a!r}" for n, a in zip(names, args) if not isinstance(a, np.ndarray))
        arrays = "".join(f"\n    {n} = {_indent(_show(a))}"
                         for n, a in zip(names, args) if isinstance(a, np.ndarray))
        case = f"{call}:{arrays}" if call else f"{', '.join(names)}:{arrays}"
        try:
            expected = reference(*args)
        except Exception as exc:  # noqa: BLE001 - a bug in convlib must not stop the notebook either
            print(f"✗ {title}: convlib itself failed on {case}: {type(exc).__name__}: {exc}")
            return False
        try:
            got = fn(*(np.array(a) if isinstance(a, np.ndarray) else a for a in args))  # copies: fn may write
        except Exception as exc:  # noqa: BLE001
            print(f"✗ {title}: raised {type(exc).__name__}: {exc}\n    on the case {case}")
            return False
        try:
            problem = "returned None: is a `return` missing?" if got is None else differ(expected, got)
        except Exception as exc:  # noqa: BLE001
            problem = f"could not compare: {type(exc).__name__}: {exc}"
        if problem:
            print(f"✗ {title}: first failing case {case}\n    expected {_indent(_show(expected))}\n"
                  f"    got      {_indent(_show(got))}\n    ({problem})")
            return False
    print(f"✓ {title}: all {len(cases)} cases agree")
    return True


def _never_raises(check):
    """Turn a failure of the check itself (say, a bad ``n_cases``) into a ✗ line and False."""
    @functools.wraps(check)
    def wrapper(fn, *args, **kwargs):
        try:
            return check(fn, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            print(f"✗ {check.__name__}: could not run the check: {type(exc).__name__}: {exc}")
            return False
    return wrapper
