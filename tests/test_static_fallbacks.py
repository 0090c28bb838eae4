"""Static fallbacks: where widgets cannot render (GitHub's preview, nbviewer, a broken front end), a
reader still sees what each widget shows in its default state, because the saved notebook holds a
PNG of it next to the widget, and the widget state is saved with the notebook."""
import base64
import io
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return nb, [c for c in nb["cells"] if c["cell_type"] == "code"]


def _mimes(cell):
    return {mime for out in cell.get("outputs", []) for mime in out.get("data", {})}


def _widget_cells(cells):
    """Indices (among the code cells) of the cells that display a widget."""
    return [i for i, c in enumerate(cells) if WIDGET_VIEW in _mimes(c)]


def _fallback_png(cells, i):
    """The first PNG in code cell i or the next one, or None."""
    for cell in cells[i:i + 2]:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                return out["data"]["image/png"]
    return None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_every_widget_cell_leaves_a_static_figure(path):
    _, cells = _code_cells(path)
    missing = [f"code cell {i + 1}: {''.join(cells[i]['source']).splitlines()[-1]!r}"
               for i in _widget_cells(cells) if _fallback_png(cells, i) is None]
    assert not missing, (f"{path.name}: these widget cells have no image/png output in the same or the "
                         f"next code cell (call .show_static()): {missing}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_widget_state_is_saved_for_every_widget_shown(path):
    nb, cells = _code_cells(path)
    views = [out["data"][WIDGET_VIEW]["model_id"] for c in cells for out in c.get("outputs", [])
             if WIDGET_VIEW in out.get("data", {})]
    if not views:
        return
    state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    lost = [model for model in views if model not in state]
    assert not lost, f"{path.name}: saved widget views whose model is not in metadata.widgets: {lost}"


def test_the_kernel_editor_figure_is_saved_in_notebook_02():
    """One notebook checked in full: the kernel editor's default state is a real picture."""
    Image = pytest.importorskip("PIL.Image")
    _, cells = _code_cells(ROOT / "notebooks" / "02_handcrafted_filters.ipynb")
    editor = [i for i in _widget_cells(cells) if "KernelEditor(" in "".join(cells[i]["source"])]
    assert len(editor) == 1
    png = _fallback_png(cells, editor[0])
    assert png is not None
    picture = Image.open(io.BytesIO(base64.b64decode(png)))
    assert picture.format == "PNG" and picture.width >= 400 and picture.height >= 150
    extrema = picture.convert("L").getextrema()
    assert extrema[1] - extrema[0] > 100, "the figure is blank"


def test_the_course_has_widget_cells_to_check():
    """Guards the tests above against passing because no widget output was found at all."""
    assert sum(len(_widget_cells(_code_cells(p)[1])) for p in NOTEBOOKS) >= 3
