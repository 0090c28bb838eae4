"""Widgets: sliders that recompute with convlib and redraw live in a notebook.

Each widget has ``controls`` (name -> ipywidget; setting ``.value`` recomputes through the same
observer a drag triggers, so tests need no browser), ``widget`` (shown by evaluating the object),
``update()``, its results as attributes, ``error`` (callbacks never raise: failures are shown in the
widget and stored here), and ``figure`` / ``show_static()`` for a PNG that survives on GitHub and
nbviewer. One module per notebook topic:

- ``patches``: :class:`WeightCounter`, :class:`PatchExplorer` (notebook 01);
- ``kernel_editor``: :class:`KernelEditor` (notebook 02);
- ``arithmetic``: :class:`ArithmeticExplorer` (notebook 04); ``pooling``: :class:`PoolExplorer`, :class:`ShiftExplorer` (notebook 05);
- ``inside``: :class:`FilterHistory`, :class:`FeatureMapExplorer` (notebook 08).
"""
from .arithmetic import ArithmeticExplorer, conv_arithmetic
from .inside import FeatureMapExplorer, FilterHistory, filter_change, layer_outputs
from .kernel_editor import PRESETS, KernelEditor, preset_kernel
from .patches import PatchExplorer, WeightCounter, count_weights
from .pooling import PoolExplorer, ShiftExplorer

__all__ = [
    "PRESETS", "preset_kernel", "count_weights", "KernelEditor", "PatchExplorer", "WeightCounter",
    "conv_arithmetic", "ArithmeticExplorer", "PoolExplorer", "ShiftExplorer",
    "filter_change", "layer_outputs", "FilterHistory", "FeatureMapExplorer",
]
