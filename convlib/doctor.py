"""The environment doctor of notebook 00: is this Python ready for the course, and if not, what to run.

:func:`doctor` prints one row per check, each ending in ✓ or in the one-line fix:

- Python, numpy, matplotlib, ipywidgets and jupyterlab against the minimums convlib was installed
  with (``pyproject.toml``, read back from the installed package's metadata);
- the widget front end: ``jupyterlab_widgets`` installed, its major version matching ipywidgets
  (8 needs 3, 7 needs 1), and its labextension on JupyterLab's search path. A missing or mismatched
  front end is what turns sliders into ``IntSlider(value=...)`` text or "Error displaying widget";
- the bundled digits match their SHA-256 (:func:`convlib.verify_sample`);
- the matplotlib backend draws inline (in a notebook) or can (``matplotlib-inline`` installed).

Run it in a notebook cell or a terminal: ``python -c "from convlib.doctor import doctor; doctor()"``.
"""
import json
import os
import re
import sys
from importlib import metadata
from typing import NamedTuple

from .data import SAMPLE_FILENAME, data_dir, verify_sample

__all__ = ["Check", "MINIMUMS", "minimums", "doctor", "run_checks", "format_report", "check_version",
           "check_widget_frontend", "check_data", "check_backend"]

#: Used only when convlib's metadata cannot be read (running from a checkout that was never
#: installed); tests/test_doctor.py keeps these equal to pyproject.toml.
MINIMUMS = {"python": "3.10", "numpy": "1.24", "matplotlib": "3.7", "ipywidgets": "8.0",
            "jupyterlab": "4.0"}
_PACKAGES = ("numpy", "matplotlib", "ipywidgets", "jupyterlab")
_FRONTEND = {8: 3, 7: 1}  # ipywidgets major -> the jupyterlab_widgets major that renders it
_MANAGER = ("@jupyter-widgets", "jupyterlab-manager")  # the labextension jupyterlab_widgets installs
_INLINE = ("inline", "ipympl", "widget", "nbagg")  # backends that draw inside the notebook
OK = "✓"


class Check(NamedTuple):
    """One row of the report: what was checked, what was found, what is needed, ✓ or the fix."""

    name: str
    found: str
    needed: str
    ok: bool
    fix: str = ""

    @property
    def result(self):
        return OK if self.ok else f"✗ {self.fix}"


def _version_tuple(version):
    """'8.1.9' -> (8, 1, 9); '4.0.0rc1' -> (4, 0, 0); leading numeric parts only."""
    parts = []
    for piece in str(version).split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
        if digits.group() != piece:  # '0rc1': the rest is a pre-release tag
            break
    return tuple(parts)


def _installed_version(name):
    """The installed version of distribution ``name``, or None if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _python_version():
    return ".".join(map(str, sys.version_info[:3]))


def minimums():
    """dict name -> minimum version string: 'python' and each of numpy, matplotlib, ipywidgets,
    jupyterlab, as declared in pyproject.toml (read from the installed metadata)."""
    found = dict(MINIMUMS)
    try:
        meta = metadata.metadata("convlib")
        requires = metadata.requires("convlib") or []
    except metadata.PackageNotFoundError:
        return found
    python = re.fullmatch(r"\s*>=\s*([\d.]+)\s*", meta.get("Requires-Python") or "")
    if python:
        found["python"] = python.group(1)
    for req in requires:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([\d.]+)", req)
        if m and m.group(1).lower() in _PACKAGES:
            found[m.group(1).lower()] = m.group(2)
    return found


def check_version(name, found, needed):
    """Row for a package (or 'Python') at version ``found`` (None: not installed) against ``needed``."""
    shown = "Python" if name == "python" else name
    if name == "python":
        fix = f"install Python >= {needed}, then recreate the venv with it (see README)"
    elif name == "jupyterlab":
        fix = (f'pip install -U "jupyterlab>={needed}" (if the server runs from another environment, '
               "run convlib.doctor() there)")
    else:
        fix = f'pip install -U "{name}>={needed}"'
    if found is None:
        return Check(shown, "not installed", f">= {needed}", False, fix)
    return Check(shown, found, f">= {needed}", _version_tuple(found) >= _version_tuple(needed), fix)


def check_widget_frontend(ipywidgets_version, frontend_version, labextension_found):
    """Row for the widget front end: ``jupyterlab_widgets`` at ``frontend_version`` (None: missing),
    matching ``ipywidgets_version``, with its labextension found on JupyterLab's path or not."""
    want = _FRONTEND.get((_version_tuple(ipywidgets_version or "") or (None,))[0])  # None: any
    needed = f"jupyterlab_widgets {want}.x" if want else "jupyterlab_widgets"
    pin = f'"jupyterlab_widgets=={want}.*"' if want else "jupyterlab_widgets"
    fix = f"pip install -U {pin} where JupyterLab runs, restart JupyterLab, reload the page"
    if frontend_version is None:
        return Check("widget front end", "jupyterlab_widgets not installed", needed, False, fix)
    found = f"jupyterlab_widgets {frontend_version}"
    if want and _version_tuple(frontend_version)[:1] != (want,):
        return Check("widget front end", found, needed, False, fix)
    if not labextension_found:
        return Check("widget front end", found + ", labextension missing", needed, False,
                     f"pip install --force-reinstall {pin} where JupyterLab runs, restart JupyterLab")
    return Check("widget front end", found, needed, True)


def check_data(exists, matches):
    """Row for the bundled digits: the sample file ``exists`` and ``matches`` its SHA-256."""
    fix = (f"git checkout -- data/{SAMPLE_FILENAME} (or python data/make_mnist_sample.py, "
           "or set CONVLIB_DATA_DIR)")
    found = "SHA-256 ok" if matches else ("SHA-256 differs" if exists else "file missing")
    return Check("bundled digits", found, f"data/{SAMPLE_FILENAME}", bool(matches), fix)


def check_backend(backend, in_kernel, inline_version):
    """Row for plotting: the matplotlib ``backend`` name (None: not chosen yet), whether we run
    ``in_kernel`` (a Jupyter kernel), and the installed ``matplotlib-inline`` version (or None)."""
    if in_kernel:
        inline = backend is not None and any(word in backend.lower() for word in _INLINE)
        found = backend.replace("module://", "") if backend else "not chosen yet"
        return Check("matplotlib backend", found, "inline", inline,
                     "run %matplotlib inline in a cell, then re-run the plot")
    if inline_version is None:
        return Check("matplotlib backend", "matplotlib-inline not installed", "inline", False,
                     "pip install -U ipykernel matplotlib-inline")
    return Check("matplotlib backend", f"matplotlib-inline {inline_version} (outside a notebook)",
                 "inline", True)


def _labextension_found():
    """True if the widget manager labextension is in a directory JupyterLab searches."""
    try:
        from jupyter_core.paths import jupyter_path

        roots = jupyter_path("labextensions")
    except ImportError:  # no Jupyter here at all: only the environment's own share folder
        roots = [os.path.join(sys.prefix, "share", "jupyter", "labextensions")]
    for root in roots:
        package = os.path.join(root, *_MANAGER, "package.json")
        try:
            with open(package, encoding="utf-8") as f:
                json.load(f)
        except (OSError, ValueError):
            continue
        return True
    return False


def _backend_and_kernel():
    """(backend name or None if matplotlib has not chosen one yet, running in a Jupyter kernel)."""
    import matplotlib

    raw = dict.__getitem__(matplotlib.rcParams, "backend")  # reading it plainly would pick one now
    backend = raw if isinstance(raw, str) else None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    return backend, shell is not None and hasattr(shell, "kernel")


def run_checks():
    """Run every check; return the rows as a list of :class:`Check`, nothing printed."""
    needed = minimums()
    rows = [check_version("python", _python_version(), needed["python"])]
    rows += [check_version(name, _installed_version(name), needed[name]) for name in _PACKAGES]
    rows.append(check_widget_frontend(_installed_version("ipywidgets"),
                                      _installed_version("jupyterlab_widgets"), _labextension_found()))
    rows.append(check_data((data_dir() / SAMPLE_FILENAME).is_file(), verify_sample()))
    backend, in_kernel = _backend_and_kernel()
    rows.append(check_backend(backend, in_kernel, _installed_version("matplotlib-inline")))
    return rows


def format_report(rows):
    """The rows as a text table, one line each, and a last line counting the problems."""
    w_name = max(len("check"), *(len(r.name) for r in rows))
    w_found = max(len("found"), *(len(r.found) for r in rows))
    w_needed = max(len("needs"), *(len(r.needed) for r in rows))
    lines = [f"{'check':<{w_name}}  {'found':<{w_found}}  {'needs':<{w_needed}}  result"]
    lines += [f"{r.name:<{w_name}}  {r.found:<{w_found}}  {r.needed:<{w_needed}}  {r.result}" for r in rows]
    bad = sum(not r.ok for r in rows)
    lines.append(f"all {len(rows)} checks passed: ready for the course" if not bad else
                 f"{bad} of {len(rows)} checks failed: run the fix after each ✗, then run doctor() again")
    return "\n".join(lines)


def doctor(file=None):
    """Check this environment for the course, print the table (to ``file``, default stdout) and
    return the rows, a list of :class:`Check` (``all(row.ok for row in rows)`` when ready)."""
    rows = run_checks()
    print(format_report(rows), file=file if file is not None else sys.stdout)
    return rows
