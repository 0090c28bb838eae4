"""The sliders in a real browser: JupyterLab in headless Chromium renders the course's widgets, and
moving them the way a student does changes what they show.

The test starts its own JupyterLab (127.0.0.1, a free port, a token) on a copy of ``notebooks/`` in
a temporary folder, so the committed notebooks are never touched, opens a notebook, clears its
saved outputs and runs Run > Run All Cells from the menu, so the kernel makes live widgets. Then it
drives the kernel editor of notebook 02 with the keyboard, the mouse and the preset menu, and the
arithmetic explorer of notebook 04 with the keyboard, and checks what changed on the page.

Needs Playwright (``pip install -e ".[browser]"``; never ``playwright install``: it drives Debian's
Chromium, ``apt-get install -y chromium``). Without them the tests are skipped, with the reason
(or fail, with ``CONVLIB_REQUIRE_BROWSER=1``, as in CI).
Select or skip them with ``-m browser`` / ``-m "not browser"``. Screenshots go to
``$CONVLIB_BROWSER_ARTIFACTS`` (default: a pytest temporary folder); with
``CONVLIB_UPDATE_SCREENSHOT=1`` the kernel editor's screenshot also replaces docs/kernel_editor.png.
"""
import base64
import contextlib
import importlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CONVLIB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]  # --no-sandbox: CI runs as root
TIMEOUT_MS = 90_000  # generous: a loaded 2-core CI machine
TOKEN = "convlib-browser-test"
ARITHMETIC_NOTEBOOK = "04_padding_stride_channels.ipynb"


def _requirement(module, fix):
    """Import ``module``, or skip these tests saying how to get it (in CI, where
    CONVLIB_REQUIRE_BROWSER=1, fail them instead: a browser test that silently skips proves nothing)."""
    global MISSING
    try:
        return importlib.import_module(module)
    except ImportError:
        MISSING = MISSING or f"no {module}: {fix}"


MISSING = None if CHROMIUM.is_file() else f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
sync_api = _requirement("playwright.sync_api", 'pip install -e ".[browser]" (never `playwright install`)')
_requirement("jupyterlab", 'pip install -e ".[dev]"')
Image = _requirement("PIL.Image", "pip install pillow")
if MISSING and os.environ.get("CONVLIB_REQUIRE_BROWSER") != "1":
    pytest.skip(MISSING, allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def _required():
    """Runs before the other module fixtures: each test fails with the reason (the rest of the
    suite still runs) when something is missing under CONVLIB_REQUIRE_BROWSER=1."""
    if MISSING:
        pytest.fail(MISSING, pytrace=False)


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    folder = os.environ.get("CONVLIB_BROWSER_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("browser-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of notebooks/; yields its base URL. Always shut down."""
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = tmp / "jupyter"  # config, data, runtime, settings, workspaces: none in the repo or ~
    settings = home / "settings" / "@jupyterlab"
    _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})  # no news toast over the page
    _write_json(settings / "docmanager-extension" / "plugin.jupyterlab-settings", {"autosave": False})
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    # The widget front end is found in sys.prefix/share/jupyter/labextensions, always searched.
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
           "--ServerApp.terminals_enabled=False", "--LabApp.news_url=None",
           "--LabApp.extension_manager=readonly",
           f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    log = open(tmp / "jupyterlab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"JupyterLab did not start:\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")
                time.sleep(0.25)
        yield base
    finally:
        with contextlib.suppress(OSError):  # asks the server to stop its kernels and exit
            urllib.request.urlopen(urllib.request.Request(
                f"{base}/api/shutdown?token={TOKEN}", method="POST"), timeout=5)
        if not _exited(server, 20):
            server.terminate()
            if not _exited(server, 10):  # last resort: its own session (kernels included)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
        log.close()


def _exited(process, seconds):
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright; no video (that needs Playwright's ffmpeg)."""
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def notebook_page(browser, lab, name, artifacts):
    """A fresh page showing notebook ``name`` with every cell re-run by Run > Run All Cells.
    On failure a screenshot of the whole page is saved to ``artifacts``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        with _evidence(page, artifacts, Path(name).stem):
            page.goto(f"{lab}/lab/tree/{name}?reset&token={TOKEN}")  # reset: only this notebook open
            _kernel_idle(page)
            _menu(page, "Edit", "Clear Outputs of All Cells")  # the saved outputs are not live widgets
            _menu(page, "Run", "Run All Cells")
            # Done when every code cell has a number, or a traceback stopped Run All (JupyterLab
            # shows tracebacks as stderr text; the cells after it keep an empty prompt).
            page.wait_for_function("""() => {
                const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]
                    .map(p => p.textContent);
                if (prompts.some(p => p.includes('*'))) return false;
                const raised = [...document.querySelectorAll('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]')]
                    .some(e => e.textContent.includes('Traceback (most recent call last)'));
                return raised || (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p)));
            }""", timeout=TIMEOUT_MS)
            tracebacks = page.locator('.jp-Notebook [data-mime-type="application/vnd.jupyter.stderr"]',
                                      has_text="Traceback (most recent call last)")
            assert tracebacks.count() == 0, \
                f"{name} raised in the browser:\n{tracebacks.first.text_content()[:3000]}"
            _kernel_idle(page)
            yield page
    finally:
        context.close()


@contextlib.contextmanager
def _evidence(page, artifacts, name):
    """On a failure inside the block, save a screenshot of the whole page to ``artifacts``."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(artifacts / f"FAILED_{name}.png"), full_page=True)
        raise


def _kernel_idle(page):
    """Wait for the status bar to read "Python 3 (ipykernel) | Idle": a live kernel, not busy."""
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"Python.*\|\s*Idle")).first.wait_for()


def _menu(page, menu, item):
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.get_by_role("menuitem", name=item, exact=True).click()


# ----------------------------------------------------------------------------------- helpers
def _pixels(img):
    """The picture an <img> shows, decoded by the browser, as an (H, W, 3) float array."""
    url = img.evaluate("""e => { const c = document.createElement('canvas');
        c.width = e.naturalWidth; c.height = e.naturalHeight;
        c.getContext('2d').drawImage(e, 0, 0); return c.toDataURL('image/png'); }""")
    png = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


def _changed(after, before):
    """Mean absolute difference of two pictures in grey levels (0..255); any resize counts as 255."""
    return 255.0 if after.shape != before.shape else float(np.abs(after - before).mean())


def _wait_new_image(img, old_src):
    """Wait until the <img> shows a new value (ipywidgets.Image swaps its blob URL) and is loaded."""
    img.page.wait_for_function("([e, old]) => e.src !== old && e.complete && e.naturalWidth > 0",
                               arg=[img.element_handle(), old_src], timeout=TIMEOUT_MS)


def _wait_text(locator, predicate, what):
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not predicate(text := locator.text_content()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last text: {text!r}")
        time.sleep(0.05)
    return text


def _assert_widgets_rendered(page):
    """No widget fell back to its text repr and no 'Error displaying widget' is on the page."""
    body = page.locator(".jp-Notebook").text_content()  # not inner_text: off-screen cells count too
    assert "Error displaying widget" not in body
    assert not re.search(r"\b(Int|Float)Slider\(|\bVBox\(children=", body), "a widget shows as text"


def _readouts(editor):
    """The values the nine (or 25) weight sliders show, as floats (the minus sign is U+2212)."""
    texts = editor.locator(".widget-slider .widget-readout").all_text_contents()
    return [float(t.replace("\u2212", "-")) for t in texts]


def _save_editor_screenshot(page, artifacts):
    """The notebook cell holding the kernel editor (its code above the live widget), as a PNG."""
    cell = page.locator(".jp-CodeCell", has=page.locator(".widget-slider")).filter(has_text="KernelEditor(")
    path = artifacts / "kernel_editor.png"
    cell.first.screenshot(path=str(path))
    if os.environ.get("CONVLIB_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture, < 300 KB
        Image.open(path).convert("RGB").quantize(colors=128).save(ROOT / "docs" / "kernel_editor.png",
                                                                optimize=True)


# ----------------------------------------------------------------------------------- notebook 02
@pytest.fixture(scope="module")
def filters_notebook(browser, lab, artifacts):
    with notebook_page(browser, lab, "02_handcrafted_filters.ipynb", artifacts) as page:
        editor = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")) \
                     .filter(has_text="preset").first
        editor.wait_for()
        editor.scroll_into_view_if_needed()
        yield page, editor


def test_kernel_editor_reacts_to_keyboard_mouse_and_preset_menu(filters_notebook, artifacts):
    page, editor = filters_notebook
    with _evidence(page, artifacts, "kernel_editor"):
        _drive_kernel_editor(page, editor, artifacts)


def _drive_kernel_editor(page, editor, artifacts):
    handles = editor.locator(".widget-slider .noUi-handle")
    assert handles.count() == 9  # a 3x3 grid of weight sliders, rendered as sliders
    preset = editor.locator(".widget-dropdown", has_text="preset").locator("select")
    output = editor.locator(".widget-vbox:has(> .widget-image)", has_text="output").locator("img")
    page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=output.element_handle())
    editor.screenshot(path=str(artifacts / "kernel_editor_start.png"))

    # 1. The preset menu: choose "emboss" (select_option fires the events a person's choice fires).
    #    The kernel fills the grid with emboss's weights and redraws.
    src, before = output.get_attribute("src"), _pixels(output)
    preset.select_option(label="emboss")
    _wait_new_image(output, src)
    _wait_text(editor.locator(".widget-slider .widget-readout").first, lambda t: t == "\u22122.000",
               "the first weight to show emboss's -2")
    assert _readouts(editor) == [-2, -1, 0, -1, 1, 1, 0, 1, 2]
    assert _changed(_pixels(output), before) > 1, "the output image did not change"
    assert preset.input_value() == "emboss"
    _save_editor_screenshot(page, artifacts)  # the README's picture: emboss on the photo

    # 2. The keyboard: focus the centre weight's handle (as Tab would) and press the right arrow.
    src, before = output.get_attribute("src"), _pixels(output)
    handles.nth(4).focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")  # +0.01 each
    centre = editor.locator(".widget-slider .widget-readout").nth(4)
    _wait_text(centre, lambda t: t == "1.200", "the centre weight to read 1.200")
    _wait_new_image(output, src)
    page.wait_for_function("s => s.value !== undefined && s.selectedOptions[0].text === 'custom'",
                           arg=preset.element_handle(), timeout=TIMEOUT_MS)  # set by the kernel
    page.wait_for_timeout(300)  # let the last of the 20 redraws arrive before comparing pixels
    assert _changed(_pixels(output), before) > 1, "the output image did not change"

    # 3. The mouse: drag the top-left weight's handle to the right.
    src, before = output.get_attribute("src"), _pixels(output)
    box = handles.nth(0).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y, steps=5)
    page.mouse.up()
    _wait_new_image(output, src)
    _wait_text(editor.locator(".widget-slider .widget-readout").first,
               lambda t: float(t.replace("\u2212", "-")) > -1.0, "the dragged weight to rise above -1")
    page.wait_for_timeout(300)
    assert _changed(_pixels(output), before) > 1, "the output image did not change"
    label = editor.locator(".widget-html", has_text="kernel").first.text_content()
    assert abs(float(re.search(r"sum (\S+)", label).group(1)) - sum(_readouts(editor))) < 0.02

    _assert_widgets_rendered(page)
    editor.screenshot(path=str(artifacts / "kernel_editor_end.png"))


def test_a_preset_keeps_its_exact_weights_in_the_browser(filters_notebook):
    page, editor = filters_notebook
    preset = editor.locator(".widget-dropdown", has_text="preset").locator("select")
    preset.select_option(label="gaussian blur")
    _wait_text(editor.locator(".widget-slider .widget-readout").nth(4), lambda t: t != "" and
               abs(float(t.replace("\u2212", "-")) - 0.204) < 0.01, "the gaussian centre weight")
    page.wait_for_timeout(1500)  # time for a front-end echo to reach the kernel and come back
    # Before the fix the echo of the snapped slider turned the preset into "custom".
    assert preset.input_value() == "gaussian blur"
    # The slider can only show its 0.01 grid (0.080), but the kernel keeps the exact 0.0751.
    assert editor.locator(".widget-slider .widget-readout").nth(0).text_content() == "0.080"


# ----------------------------------------------------------------------------------- notebook 04
def test_arithmetic_explorer_prints_the_new_output_size(browser, lab, artifacts):
    if not (ROOT / "notebooks" / ARITHMETIC_NOTEBOOK).is_file():
        pytest.skip(f"notebooks/{ARITHMETIC_NOTEBOOK} does not exist yet")
    with notebook_page(browser, lab, ARITHMETIC_NOTEBOOK, artifacts) as page:
        explorer = page.locator(".jp-OutputArea-output").filter(
            has=page.locator(".widget-slider", has_text="dilation")).filter(has_text="output size").first
        explorer.scroll_into_view_if_needed()
        size_text = explorer.locator(".widget-html", has_text="output size").first

        def shown():
            """(slider values by name, the output size printed) as the page shows them."""
            values = {}
            for slider in explorer.locator(".widget-slider").all():
                name = slider.locator(".widget-label").first.text_content().strip()
                values[name] = int(slider.locator(".widget-readout").text_content().replace("\u2212", "-"))
            size = re.search(r"output size (\d+) × \1", size_text.text_content())
            return values, int(size.group(1)) if size else None

        def formula(v):  # O = (I + 2P - D(K-1) - 1) // S + 1
            return (v["input"] + 2 * v["padding"] - v["dilation"] * (v["kernel"] - 1) - 1) // v["stride"] + 1

        values, size = shown()
        assert size == formula(values)
        before = size_text.text_content()
        stride = explorer.locator(".widget-slider", has_text="stride").locator(".noUi-handle")
        stride.focus()
        page.keyboard.press("ArrowLeft" if values["stride"] > 1 else "ArrowRight")
        _wait_text(size_text, lambda t: t != before, "the printed output size to change")
        values2, size2 = shown()
        assert values2["stride"] != values["stride"]
        assert size2 == formula(values2)
        _assert_widgets_rendered(page)
        explorer.screenshot(path=str(artifacts / "arithmetic_explorer.png"))
