"""convlib.doctor: each row passes or fails with its one-line fix, whatever versions are installed."""
import importlib
import io
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
# import_module, not `import convlib.doctor`: if the package re-exports the function doctor, the
# attribute convlib.doctor is that function and no longer the module.
dr = importlib.import_module("convlib.doctor")

GOOD = {"numpy": "2.4.6", "matplotlib": "3.11.2", "ipywidgets": "8.1.9", "jupyterlab": "4.6.6",
        "jupyterlab_widgets": "3.0.17", "matplotlib-inline": "0.2.2"}


@pytest.fixture
def healthy(monkeypatch):
    """A machine where everything is right; each test then breaks one thing. Returns the versions."""
    versions = dict(GOOD)
    monkeypatch.setattr(dr, "_installed_version", versions.get)
    monkeypatch.setattr(dr, "_python_version", lambda: "3.11.7")
    monkeypatch.setattr(dr, "_labextension_found", lambda: True)
    monkeypatch.setattr(dr, "verify_sample", lambda: True)
    monkeypatch.setattr(dr, "_backend_and_kernel",
                        lambda: ("module://matplotlib_inline.backend_inline", True))
    return versions


def rows_by_name():
    return {row.name: row for row in dr.run_checks()}


def test_healthy_machine_passes_every_row_and_says_so(healthy):
    out = io.StringIO()
    rows = dr.doctor(file=out)
    assert [r.name for r in rows] == ["Python", "numpy", "matplotlib", "ipywidgets", "jupyterlab",
                                      "widget front end", "bundled digits", "matplotlib backend"]
    assert all(r.ok for r in rows)
    text = out.getvalue()
    assert text.count("✓") == 8 and "✗" not in text
    assert "all 8 checks passed" in text
    assert "2.4.6" in text and ">= 1.24" in text


@pytest.mark.parametrize("name, old, fix, failed", [
    ("numpy", "1.23.5", 'pip install -U "numpy>=1.24"', 1),
    ("matplotlib", "3.6.3", 'pip install -U "matplotlib>=3.7"', 1),
    ("ipywidgets", "7.8.5", 'pip install -U "ipywidgets>=8.0"', 2),  # and the front end no longer fits
    ("jupyterlab", "3.6.8", 'pip install -U "jupyterlab>=4.0"', 1),
])
def test_an_old_package_fails_with_the_pip_command(healthy, name, old, fix, failed):
    healthy[name] = old
    out = io.StringIO()
    rows = {r.name: r for r in dr.doctor(file=out)}
    assert not rows[name].ok and rows[name].found == old
    assert fix in rows[name].fix
    line = next(line for line in out.getvalue().splitlines() if line.startswith(name + " "))
    assert "✗" in line and fix in line
    assert f"{failed} of 8 checks failed" in out.getvalue()


def test_a_missing_package_is_reported_as_not_installed(healthy):
    del healthy["jupyterlab"]
    row = rows_by_name()["jupyterlab"]
    assert not row.ok and row.found == "not installed"
    assert "convlib.doctor() there" in row.fix  # the server may live in another environment


def test_old_python_fails(healthy, monkeypatch):
    monkeypatch.setattr(dr, "_python_version", lambda: "3.9.18")
    row = rows_by_name()["Python"]
    assert not row.ok and "Python >= 3.10" in row.fix


@pytest.mark.parametrize("found, ok", [("1.24.0", True), ("1.24", True), ("2.0.0rc1", True),
                                       ("1.23.99", False), ("1.3", False)])
def test_versions_compare_as_numbers_not_strings(found, ok):
    assert dr.check_version("numpy", found, "1.24").ok is ok


def test_widget_front_end_missing_or_mismatched(healthy, monkeypatch):
    del healthy["jupyterlab_widgets"]
    row = rows_by_name()["widget front end"]
    assert not row.ok and "not installed" in row.found
    assert 'pip install -U "jupyterlab_widgets==3.*"' in row.fix and "restart JupyterLab" in row.fix

    healthy["jupyterlab_widgets"] = "1.1.7"  # the ipywidgets 7 front end: "Error displaying widget"
    row = rows_by_name()["widget front end"]
    assert not row.ok and row.needed == "jupyterlab_widgets 3.x"

    healthy["jupyterlab_widgets"] = "3.0.17"
    monkeypatch.setattr(dr, "_labextension_found", lambda: False)
    row = rows_by_name()["widget front end"]
    assert not row.ok and "labextension missing" in row.found and "--force-reinstall" in row.fix


def test_ipywidgets_7_needs_front_end_1():
    assert dr.check_widget_frontend("7.8.5", "1.1.7", True).ok
    assert not dr.check_widget_frontend("7.8.5", "3.0.17", True).ok


def test_altered_or_missing_data(healthy, monkeypatch, tmp_path):
    monkeypatch.setattr(dr, "verify_sample", lambda: False)
    row = rows_by_name()["bundled digits"]
    assert not row.ok and row.found == "SHA-256 differs" and "git checkout -- data/" in row.fix

    monkeypatch.setenv("CONVLIB_DATA_DIR", str(tmp_path))  # an empty folder: no sample there
    row = rows_by_name()["bundled digits"]
    assert not row.ok and row.found == "file missing"


def test_real_data_passes_its_checksum():
    assert dr.run_checks()[6] == dr.check_data(True, True)


@pytest.mark.parametrize("backend, ok", [
    ("module://matplotlib_inline.backend_inline", True),
    ("module://ipympl.backend_nbagg", True),
    ("agg", False),
    ("QtAgg", False),
    (None, False),
])
def test_backend_in_a_kernel_must_draw_inline(healthy, monkeypatch, backend, ok):
    monkeypatch.setattr(dr, "_backend_and_kernel", lambda: (backend, True))
    row = rows_by_name()["matplotlib backend"]
    assert row.ok is ok
    assert ok or row.fix.startswith("run %matplotlib inline")


def test_backend_outside_a_kernel_needs_matplotlib_inline(healthy, monkeypatch):
    monkeypatch.setattr(dr, "_backend_and_kernel", lambda: ("agg", False))
    assert rows_by_name()["matplotlib backend"].ok
    del healthy["matplotlib-inline"]
    row = rows_by_name()["matplotlib backend"]
    assert not row.ok and "matplotlib-inline" in row.fix


def test_doctor_does_not_choose_a_backend():
    """Reading the backend must not make matplotlib pick one: that would pin a script to agg."""
    code = ("import matplotlib; from convlib.doctor import run_checks; rows = run_checks(); "
            "print(isinstance(dict.__getitem__(matplotlib.rcParams, 'backend'), str), rows[-1].found)")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    chosen, found = out.stdout.split(" ", 1)
    assert chosen == "False" and "outside a notebook" in found


def test_every_failing_row_has_a_one_line_fix(healthy, monkeypatch):
    for name in list(healthy):
        del healthy[name]
    monkeypatch.setattr(dr, "_python_version", lambda: "3.8.0")
    monkeypatch.setattr(dr, "verify_sample", lambda: False)
    monkeypatch.setattr(dr, "_backend_and_kernel", lambda: ("agg", True))
    out = io.StringIO()
    rows = dr.doctor(file=out)
    assert not any(r.ok for r in rows)
    assert all(r.fix and "\n" not in r.fix for r in rows)
    assert "8 of 8 checks failed" in out.getvalue()


def test_minimums_match_pyproject():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {"python": project["requires-python"].removeprefix(">=")}
    for req in project["dependencies"] + project["optional-dependencies"]["lab"]:
        name, _, version = req.partition(">=")
        declared[name.strip()] = version.strip()
    for name, version in dr.minimums().items():
        assert declared[name] == version, name
    for name, version in dr.MINIMUMS.items():
        assert declared[name] == version, name
