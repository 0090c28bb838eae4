"""Layers: objects that hold parameters and call the functional core, plus the softmax loss.

Notebook 07 assembles them into a digit classifier. Each layer has ``forward(x, training=...)``,
which keeps what ``backward`` needs, and ``backward(dout)``, which returns dL/dx and fills
``grads`` (same keys as ``params``, e.g. ``{"w": ..., "b": ...}``). The arithmetic lives in
:mod:`convlib.conv` and :mod:`convlib.pool`; a layer only remembers its inputs and weights.
A frozen layer (``layer.freeze()``) still passes gradients through but offers none for its own
parameters, so no optimizer changes them. Set weights in place: ``conv.params["w"][...] = kernels``.
"""
import numpy as np

from ._validate import as_array, as_int, as_pair, check_ndim
from .conv import conv2d, conv2d_backward
from .pool import pool2d, pool2d_backward

__all__ = ["Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "ReLU", "Tanh", "Flatten", "Dense", "Dropout",
           "Sequential", "softmax_cross_entropy"]


def _as_rng(rng):
    """A Generator from ``None`` (fresh entropy), an int seed or a Generator, else TypeError."""
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def _init_weights(shape, fan_in, fan_out, init, rng, dtype):
    """He (``std = sqrt(2 / fan_in)``, for ReLU) or Glorot (``std = sqrt(2 / (fan_in + fan_out))``) normal."""
    if init not in ("he", "glorot"):
        raise ValueError(f"init must be 'he' or 'glorot', got {init!r}")
    std = np.sqrt(2.0 / fan_in) if init == "he" else np.sqrt(2.0 / (fan_in + fan_out))
    return (std * _as_rng(rng).standard_normal(shape)).astype(dtype)


class Layer:
    """Base class: no parameters, trainable, ``astype`` converts every parameter."""

    def __init__(self):
        self.params, self.grads, self.trainable, self._cache = {}, {}, True, None

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def freeze(self):
        """Keep the parameters fixed: backward stops filling ``grads``. Returns the layer."""
        self.trainable, self.grads = False, {}
        return self

    def unfreeze(self):
        """Let an optimizer train the parameters again. Returns the layer."""
        self.trainable = True
        return self

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` (new arrays: build optimizers afterwards)."""
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}
        self.grads = {}
        return self

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache

    def __repr__(self):
        return f"{type(self).__name__}()"


class Conv2D(Layer):
    """2-D convolution layer around :func:`convlib.conv.conv2d`.

    Parameters: ``w`` of shape (F, C, KH, KW) with F = out_channels, C = in_channels, and ``b`` (F,),
    He-initialised (``init="glorot"`` for tanh networks) from ``rng``; ``dtype`` float32 by default.
    Input (N, C, H, W) -> output (N, F, OH, OW), ``OH = (H + 2*padding - KH) // stride + 1``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, init="he",
                 rng=None, dtype=np.float32):
        super().__init__()
        C, F = as_int(in_channels, "in_channels", 1), as_int(out_channels, "out_channels", 1)
        KH, KW = as_pair(kernel_size, "kernel_size", 1)
        self.stride, self.padding = as_pair(stride, "stride", 1), as_pair(padding, "padding", 0)
        w = _init_weights((F, C, KH, KW), C * KH * KW, F * KH * KW, init, rng, dtype)  # fan_in, fan_out
        self.params = {"w": w, "b": np.zeros(F, dtype=dtype)}

    def forward(self, x, training=False):
        x = as_array(x, "x")
        check_ndim(x, "x", (4,), "(N, C, H, W)")
        F, C, KH, KW = self.params["w"].shape
        if x.shape[1] != C:
            raise ValueError(f"x must have shape (N, {C}, H, W) for {self!r}, got shape {x.shape}")
        # Keep the columns for backward only when training: at inference they would just hold memory.
        self._cache, self._columns = x, ({} if training else None)
        return conv2d(x, self.params["w"], self.params["b"], stride=self.stride, padding=self.padding,
                      cache=self._columns)

    def backward(self, dout, need_dx=True):
        """dL/dx from dL/dout (None when ``need_dx`` is False: a first layer skips that work)."""
        x = self._cached()
        dx, dw, db = conv2d_backward(dout, x, self.params["w"], stride=self.stride, padding=self.padding,
                                     cache=self._columns, need_dx=need_dx)
        if self.trainable:
            self.grads = {"w": dw, "b": db}
        return dx

    def __repr__(self):
        F, C, KH, KW = self.params["w"].shape
        return f"Conv2D({C}, {F}, kernel_size={(KH, KW)}, stride={self.stride}, padding={self.padding})"


class _Pool(Layer):
    mode = None

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = as_pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else as_pair(stride, "stride", 1)

    def forward(self, x, training=False):
        self._cache, self._pooled = x, ({} if training else None)
        return pool2d(x, self.kernel_size, self.stride, mode=self.mode, cache=self._pooled)

    def backward(self, dout):
        return pool2d_backward(dout, self._cached(), self.kernel_size, self.stride, mode=self.mode,
                               cache=self._pooled)

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2D(_Pool):
    """Max pooling (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - KH) // stride + 1``; stride defaults to KH."""
    mode = "max"


class AvgPool2D(_Pool):
    """Mean pooling (N, C, H, W) -> (N, C, OH, OW), ``OH = (H - KH) // stride + 1``; stride defaults to KH."""
    mode = "mean"


class ReLU(Layer):
    """``max(0, x)`` elementwise, any shape; the gradient passes where ``x > 0``."""

    def forward(self, x, training=False):
        x = as_array(x, "x")
        self._cache = x > 0  # boolean mask, shape of x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * self._cached()  # a bool mask keeps dout's dtype


class Tanh(Layer):
    """``tanh(x)`` elementwise, any shape; dL/dx = dout * (1 - tanh(x)**2)."""

    def forward(self, x, training=False):
        self._cache = np.tanh(as_array(x, "x"))
        return self._cache

    def backward(self, dout):
        y = self._cached()  # tanh(x)
        return dout * (1 - y * y)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), the bridge from feature maps to a Dense layer."""

    def forward(self, x, training=False):
        x = as_array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have shape (N, ...) with at least 2 dimensions, got shape {x.shape}")
        self._cache = x.shape
        return x.reshape(x.shape[0], -1)  # (N, d1*d2*...)

    def backward(self, dout):
        return np.reshape(dout, self._cached())


class Dense(Layer):
    """Fully connected layer ``y = x @ w.T + b``, PyTorch's ``Linear``: x (N, D) -> y (N, M).

    Parameters: ``w`` of shape (M, D) with M = out_features, D = in_features, and ``b`` (M,),
    Glorot-initialised by default (``init="he"`` before a ReLU) from ``rng``.
    """

    def __init__(self, in_features, out_features, *, init="glorot", rng=None, dtype=np.float32):
        super().__init__()
        D, M = as_int(in_features, "in_features", 1), as_int(out_features, "out_features", 1)
        self.params = {"w": _init_weights((M, D), D, M, init, rng, dtype), "b": np.zeros(M, dtype=dtype)}

    def forward(self, x, training=False):
        x = as_array(x, "x")
        M, D = self.params["w"].shape
        if x.ndim != 2 or x.shape[1] != D:
            raise ValueError(f"x must have shape (N, {D}) for {self!r}, got shape {x.shape}")
        self._cache = x
        return x @ self.params["w"].T + self.params["b"]  # (N, M)

    def backward(self, dout):
        x = self._cached()
        dout, expected = as_array(dout, "dout"), (x.shape[0], self.params["w"].shape[0])  # (N, M)
        if dout.shape != expected:
            raise ValueError(f"dout must have the output's shape {expected}, got {dout.shape}")
        if self.trainable:
            self.grads = {"w": dout.T @ x, "b": dout.sum(axis=0)}  # (M, D), (M,)
        return dout @ self.params["w"]  # (N, D)

    def __repr__(self):
        M, D = self.params["w"].shape
        return f"Dense({D}, {M})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the rest
    by ``1 / (1 - p)``; at test time the identity. Any shape."""

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
            raise TypeError(f"p must be a float in [0, 1), got {p!r} ({type(p).__name__})")
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p, self.rng = float(p), _as_rng(rng)

    def forward(self, x, training=False):
        x = as_array(x, "x")
        if not training or self.p == 0:
            self._cache = np.ones((), dtype=x.dtype)
            return x
        self._cache = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / x.dtype.type(1 - self.p)
        return x * self._cache

    def backward(self, dout):
        return dout * self._cached()

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Sequential:
    """Layers applied in order. ``params`` and ``grads`` gather the layers' dicts under prefixed
    keys (``"0.w"`` is ``layers[0].params["w"]``, the same array, so in-place updates reach the
    layer); ``grads`` holds trainable layers only."""

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not all(hasattr(layer, a) for a in ("forward", "backward", "params", "grads")):
                raise TypeError(f"layers[{i}] must be a layer with forward, backward, params and grads, "
                                f"got {type(layer).__name__}")
        self.layers = list(layers)

    def __call__(self, x, training=False):
        return self.forward(x, training=training)

    def forward(self, x, training=False):
        """Run ``x`` through every layer; ``training=True`` turns on dropout."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dout, need_dx=True):
        """Backpropagate dL/d(output) through every layer; returns dL/dx.

        ``need_dx=False`` (what training uses) lets a first :class:`Conv2D` skip its input gradient,
        a sizeable share of the work, and returns None."""
        for i, layer in reversed(list(enumerate(self.layers))):
            if i == 0 and not need_dx and isinstance(layer, Conv2D):
                return layer.backward(dout, need_dx=False)
            dout = layer.backward(dout)
        return dout

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) if getattr(layer, "trainable", True)
                for k, v in layer.grads.items()}

    @property
    def dtype(self):
        """dtype of the parameters (float64 if there are none)."""
        return next((v.dtype for v in self.params.values()), np.dtype(np.float64))

    def astype(self, dtype):
        """Convert every layer's parameters to ``dtype`` in place; returns the model."""
        for layer in self.layers:
            if hasattr(layer, "astype"):
                layer.astype(dtype)
        return self

    def num_params(self):
        return int(sum(v.size for v in self.params.values()))

    def __repr__(self):
        lines = [f"  ({i}) {layer!r}" + ("  [frozen]" if not getattr(layer, "trainable", True) else "")
                 for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + f"\n)  # {self.num_params():,} parameters"


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of the softmax of ``logits`` against integer ``labels``, and its gradient.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    labels : ndarray of int, shape (N,), values in 0..K-1

    Returns
    -------
    loss : float, ``mean_n(logsumexp(logits[n]) - logits[n, labels[n]])``
    dlogits : ndarray, shape (N, K), ``(softmax(logits) - onehot(labels)) / N``, logits' dtype
    """
    logits, labels = as_array(logits, "logits"), as_array(labels, "labels")
    check_ndim(logits, "logits", (2,), "(N, K)")
    N, K = logits.shape
    if N == 0 or labels.shape != (N,) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers of shape (N,) = ({N},) with N >= 1, "
                         f"got {labels.dtype} of shape {labels.shape}")
    if labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"labels must be in 0..{K - 1}, got values from {labels.min()} to {labels.max()}")
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K), largest entry 0: exp cannot overflow
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1)
    log_probs = shifted - log_norm  # (N, K)
    rows = np.arange(N)
    loss = -float(np.mean(log_probs[rows, labels], dtype=np.float64))
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    dlogits /= N
    return loss, dlogits.astype(logits.dtype if logits.dtype.kind == "f" else np.float64, copy=False)
