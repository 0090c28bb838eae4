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
- 04, 05: :func:`check_conv_output_shape`, :func:`check_param_count`, :func:`check_same_padding`, :func:`check_max_pool`, :func:`check_pool_output_size` (module ``shapes``);
- 06: :func:`check_conv1d_backward` ``fn(dout, x, w) -> (dx, dw)``, :func:`check_max_pool_backward` ``fn(dout, x, size) -> dx``, :func:`check_conv2d_dw` ``fn(dout, x, w) -> dw``.
- 07: :func:`check_softmax_cross_entropy` ``fn(logits, labels) -> (loss, dlogits)``, :func:`check_shift_image` ``fn(image, dy, dx) -> (H, W)`` (module ``training``);
- 08: :func:`check_receptive_field` ``fn(layers) -> int``, :func:`check_calibration_error` ``fn(probs, labels, n_bins) -> float`` (module ``inside``).
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
from .gradients import check_conv1d_backward, check_conv2d_dw, check_max_pool_backward
from .inside import check_calibration_error, check_receptive_field
from .shapes import (check_conv_output_shape, check_max_pool, check_param_count, check_pool_output_size,
                     check_same_padding)
from .training import check_shift_image, check_softmax_cross_entropy

__all__ = [
    "check_weight_count", "check_patches", "check_output_size", "check_feature_map",
    "check_diagonal_filter", "check_window_strides", "check_im2col",
    "check_conv1d_backward", "check_max_pool_backward", "check_conv2d_dw",
    "check_conv_output_shape", "check_param_count", "check_same_padding", "check_max_pool", "check_pool_output_size",
    "check_receptive_field", "check_calibration_error",
    "check_softmax_cross_entropy", "check_shift_image",
]
