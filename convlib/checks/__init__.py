"""Self-checks for the exercises that end the notebooks.

Each ``check_*`` runs the reader's function on about 20 seeded random cases, smallest first, and
compares every answer with convlib's. It prints ``✓ <name>: all N cases agree``, or the first (so
the smallest) failing case with the expected and the actual answer, and returns True or False. It
never raises: a stub that raises ``NotImplementedError``, a wrong shape, a wrong type, even a
function that is not callable, is reported as a ✗ line, so a notebook whose exercises are still
stubs runs clean from top to bottom.

Every check takes ``n_cases=20`` and ``seed=0``. What the reader writes, and where:

- 01: :func:`check_weight_count` ``fn(image_size, patch_size, stride, units) -> (weights, outputs)``,
  :func:`check_patches` ``fn(image, size, stride) -> (OH, OW, size, size)``,
  :func:`check_output_size` ``fn(size, kernel_size, stride, padding) -> int`` (also 03);
- 02: :func:`check_feature_map` ``fn(image, kernel) -> (H - KH + 1, W - KW + 1)``,
  :func:`check_diagonal_filter` ``fn(size) -> (size, size)``;
- 03: :func:`check_window_strides` ``fn(shape, itemsize, kernel_size, stride) -> strides``,
  :func:`check_im2col` ``fn(x, kernel_size, stride) -> (N*OH*OW, C*KH*KW)``.
"""
from .basics import (
    check_diagonal_filter,
    check_feature_map,
    check_im2col,
    check_output_size,
    check_patches,
    check_weight_count,
    check_window_strides,
)

__all__ = [
    "check_weight_count", "check_patches", "check_output_size", "check_feature_map",
    "check_diagonal_filter", "check_window_strides", "check_im2col",
]
