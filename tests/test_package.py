"""The package surface: every public name importable from the top level, and README and CI agree."""
import importlib
import pathlib
import re

import convlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_name_in_all_is_importable_from_the_top_level():
    for name in convlib.__all__:
        assert hasattr(convlib, name), name


def test_each_module_exports_its_public_functions():
    for module in ("windows", "conv", "conv1d", "pool", "gradcheck", "filters", "data"):
        mod = importlib.import_module(f"convlib.{module}")
        for name in mod.__all__:
            assert hasattr(mod, name), f"convlib.{module}.{name}"


def test_ci_runs_the_readme_test_command():
    """.ci/run must run exactly the command the README gives for the tests."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    match = re.search(r"^TEST_COMMAND='(.+)'$", ci, flags=re.M)
    assert match, ".ci/run must define TEST_COMMAND='...'"
    assert match.group(1) in readme


def test_plotting_and_widget_modules_load_on_first_use():
    import sys

    for name in ("plot", "widgets", "checks"):
        module = getattr(convlib, name)
        assert module is sys.modules[f"convlib.{name}"]
