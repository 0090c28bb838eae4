"""Optimizers: turn gradients into parameter updates, in place. Taught in notebook 07.

Both follow PyTorch's update rules exactly (``torch.optim.SGD`` and ``torch.optim.Adam``, with the
same defaults), so PyTorch can check them step by step. One call does one step::

    model.backward(dlogits)
    opt.step(model.params, model.grads)

``params`` and ``grads`` are dicts name -> ndarray. Every ``params[name]`` with an entry in ``grads``
is updated *in place* (the layers hold the same arrays); names without a gradient, such as those of
frozen layers, are left alone. State (momentum, Adam's moments) is kept per name.
:func:`cosine_schedule` lowers the learning rate epoch by epoch (``fit(..., lr_schedule=...)``).
"""
import math
import numbers

import numpy as np

__all__ = ["Optimizer", "SGD", "Adam", "cosine_schedule"]


def _as_float(value, name, low=0.0, high=np.inf, low_open=False):
    """``value`` as a float in [low, high) (or (low, high) when ``low_open``), else Type/ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not (low < value if low_open else low <= value) or not value < high:
        bounds = f"{'(' if low_open else '['}{low}, {high})"
        raise ValueError(f"{name} must be in {bounds}, got {value}")
    return value


class Optimizer:
    """Shared checks and per-parameter state; subclasses implement ``_update(p, g, state)``."""

    def __init__(self, lr, weight_decay=0.0):
        self.lr = _as_float(lr, "lr", low_open=True)
        self.weight_decay = _as_float(weight_decay, "weight_decay")
        self.state = {}
        self.steps = 0

    def step(self, params, grads):
        """Update every ``params[name]`` that has a ``grads[name]``, in place.

        Parameters
        ----------
        params : dict of str -> ndarray, float dtype, writeable
        grads : dict of str -> ndarray, each with the shape of ``params[name]``
        """
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise TypeError(f"params and grads must be dicts name -> ndarray, got "
                            f"{type(params).__name__} and {type(grads).__name__}")
        for name, g in grads.items():
            if name not in params:
                raise ValueError(f"grads has {name!r}, which is not in params (names: {sorted(params)})")
            p = params[name]
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{name!r}] must be a float ndarray (updated in place), got {type(p).__name__}"
                                + (f" of dtype {p.dtype}" if isinstance(p, np.ndarray) else ""))
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{name!r}] must have the shape of params[{name!r}], {p.shape}, "
                                 f"got {np.shape(g)}")
        self.steps += 1
        for name, g in grads.items():
            p = params[name]
            g = np.asarray(g, dtype=p.dtype)
            if self.weight_decay:
                g = g + self.weight_decay * p  # L2 penalty (weight_decay/2)*|p|^2, as PyTorch adds it
            self._update(p, g, self.state.setdefault(name, {}))

    def _update(self, p, g, state):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("state", "steps"))
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's form, no dampening).

    ``g = grad + weight_decay * p``; ``v = g`` on the first step, then ``v = momentum * v + g``;
    ``p -= lr * v`` (``p -= lr * g`` when momentum is 0).
    """

    def __init__(self, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        self.momentum = _as_float(momentum, "momentum", high=1.0)

    def _update(self, p, g, state):
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = g.copy()
            else:
                v = state["velocity"]
                v *= self.momentum
                v += g
            g = state["velocity"]
        p -= self.lr * g


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba; PyTorch's ``torch.optim.Adam``).

    At step t: ``m = b1*m + (1-b1)*g``, ``v = b2*v + (1-b2)*g**2``,
    ``p -= lr / (1 - b1**t) * m / (sqrt(v) / sqrt(1 - b2**t) + eps)``.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_as_float(betas[0], "betas[0]", high=1.0), _as_float(betas[1], "betas[1]", high=1.0))
        self.eps = _as_float(eps, "eps")

    def _update(self, p, g, state):
        b1, b2 = self.betas
        if "m" not in state:
            state["m"], state["v"], state["t"] = np.zeros_like(p), np.zeros_like(p), 0
        m, v = state["m"], state["v"]
        state["t"] += 1
        t = state["t"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + self.eps
        p -= (self.lr / (1 - b1 ** t)) * (m / denom)


def cosine_schedule(lr, epochs):
    """``schedule(epoch) = lr * (1 + cos(pi * epoch / epochs)) / 2``: from ``lr`` at epoch 0 down
    along half a cosine towards 0 at epoch ``epochs`` (0-based epochs; for ``fit``'s lr_schedule)."""
    lr = _as_float(lr, "lr", low_open=True)
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    return lambda epoch: lr * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
