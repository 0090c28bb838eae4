"""Layers: gradient checks of every layer and of a small network (float64), the softmax loss,
initialisation, freezing, dtypes and bad input."""
import numpy as np
import pytest

from convlib.conv import conv2d
from convlib.gradcheck import numerical_gradient, rel_error
from convlib.layers import (AvgPool2D, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential, Tanh,
                            softmax_cross_entropy)
from convlib.optim import SGD

F64 = np.float64


def away_from_zero(shape, rng):
    """Values in +-[0.1, 1): no ReLU kinks within a finite-difference step."""
    return rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)


def check_layer(layer, x, bound, rng):
    """rel_error of dL/dx and of every dL/dparam against finite differences, L = sum(out * dout)."""
    out = layer.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    errors = {"x": rel_error(dx, numerical_gradient(lambda v: layer.forward(v, training=True), x, dout))}
    for name, p in layer.params.items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(lambda _: layer.forward(x, training=True), p, dout))
    assert max(errors.values()) < bound, errors


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d_layer_gradients(stride, padding):
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 3, (3, 2), stride=stride, padding=padding, rng=rng, dtype=F64)
    layer.params["b"][...] = rng.standard_normal(3)
    check_layer(layer, rng.standard_normal((2, 2, 6, 5)), 1e-7, rng)


@pytest.mark.parametrize("layer", [MaxPool2D(2), MaxPool2D(3, stride=2), AvgPool2D(2), AvgPool2D((2, 3), stride=1)],
                         ids=repr)
def test_pool_layer_gradients(layer):
    rng = np.random.default_rng(1)
    x = rng.permutation(2 * 3 * 7 * 7).reshape(2, 3, 7, 7) / 294.0  # distinct values 1/294 apart: no ties for max
    check_layer(layer, x, 1e-7, rng)


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Flatten()], ids=repr)
def test_elementwise_and_flatten_gradients(layer):
    rng = np.random.default_rng(2)
    check_layer(layer, away_from_zero((3, 2, 4, 4), rng), 1e-7, rng)


def test_dense_gradients():
    rng = np.random.default_rng(3)
    layer = Dense(6, 4, rng=rng, dtype=F64)
    layer.params["b"][...] = rng.standard_normal(4)
    check_layer(layer, rng.standard_normal((5, 6)), 1e-7, rng)


def test_dropout_gradient_with_a_fixed_mask_and_identity_at_test_time():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 10))
    layer = Dropout(0.3, rng=0)
    out = layer.forward(x, training=True)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)

    def f(v):
        layer.rng = np.random.default_rng(0)  # the same mask on every call
        return layer.forward(v, training=True)

    assert rel_error(dx, numerical_gradient(f, x, dout)) < 1e-7
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-12)
    assert 0.4 < kept.mean() < 0.95
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def small_network(rng):
    return Sequential(
        Conv2D(1, 3, 3, padding=1, rng=rng, dtype=F64), ReLU(), MaxPool2D(2),
        Conv2D(3, 4, 3, rng=rng, dtype=F64), Tanh(), AvgPool2D(2), Flatten(),
        Dense(4, 5, init="he", rng=rng, dtype=F64), ReLU(), Dense(5, 3, rng=rng, dtype=F64))


def test_whole_network_gradient_check_float64():
    rng = np.random.default_rng(5)
    model = small_network(rng)
    for p in model.params.values():
        if p.ndim == 1:
            p[...] = rng.uniform(0.05, 0.2, p.shape)
    x, y = rng.standard_normal((4, 1, 8, 8)), np.array([0, 2, 1, 2])

    def loss(_):
        return softmax_cross_entropy(model.forward(x), y)[0]

    loss_value, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    grads = model.grads
    assert set(grads) == set(model.params) and len(grads) == 8
    errors = {name: rel_error(grads[name], numerical_gradient(loss, p)) for name, p in model.params.items()}
    errors["x"] = rel_error(dx, numerical_gradient(lambda v: softmax_cross_entropy(model.forward(v), y)[0], x))
    assert max(errors.values()) < 1e-6, errors


def test_softmax_cross_entropy_matches_a_direct_reference():
    rng = np.random.default_rng(6)
    logits, labels = rng.standard_normal((5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(loss, -np.mean(np.log(probs[np.arange(5), labels])), rtol=1e-12)
    np.testing.assert_allclose(dlogits, (probs - np.eye(4)[labels]) / 5, rtol=1e-12, atol=1e-15)
    z = logits / 3  # moderate logits: no probability so small that finite differences lose it
    analytic = softmax_cross_entropy(z, labels)[1]
    assert rel_error(analytic, numerical_gradient(lambda v: softmax_cross_entropy(v, labels)[0], z)) < 1e-7


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]])
    loss, dlogits = softmax_cross_entropy(logits, np.array([1, 0]))
    # row 0: -log softmax = 1e4 exactly; row 1: two equal winners, log 2
    np.testing.assert_allclose(loss, (1e4 + np.log(2)) / 2, rtol=1e-12)
    assert np.all(np.isfinite(dlogits))
    np.testing.assert_allclose(dlogits, [[0.5, -0.5, 0], [-0.25, 0.25, 0]], atol=1e-15)
    loss32, d32 = softmax_cross_entropy(logits.astype(np.float32), np.array([1, 0]))
    assert np.isfinite(loss32) and d32.dtype == np.float32


def test_softmax_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    logits, labels = rng.standard_normal((6, 10)) * 5, rng.integers(0, 10, 6)
    t = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    ref.backward()
    loss, dlogits = softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(dlogits, t.grad.numpy(), rtol=1e-10, atol=1e-16)


def test_he_and_glorot_initialisation_are_seeded_and_scaled():
    a = Conv2D(8, 64, 5, rng=np.random.default_rng(0), dtype=F64)
    b = Conv2D(8, 64, 5, rng=np.random.default_rng(0), dtype=F64)
    np.testing.assert_array_equal(a.params["w"], b.params["w"])
    np.testing.assert_allclose(a.params["w"].std(), np.sqrt(2 / (8 * 25)), rtol=0.05)
    np.testing.assert_array_equal(a.params["b"], 0)
    d = Dense(300, 200, rng=1)
    np.testing.assert_allclose(d.params["w"].std(), np.sqrt(2 / 500), rtol=0.05)
    assert d.params["w"].dtype == np.float32 and d.params["w"].shape == (200, 300)


def test_conv2d_layer_is_the_functional_core_and_keeps_float32():
    rng = np.random.default_rng(8)
    layer = Conv2D(1, 4, 3, padding=1, rng=rng)
    x = rng.random((2, 1, 6, 6)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32 and out.shape == (2, 4, 6, 6)
    np.testing.assert_array_equal(out, conv2d(x, layer.params["w"], layer.params["b"], padding=1))
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == layer.grads["w"].dtype == np.float32


def test_weights_set_in_place_freeze_and_sequential_views():
    rng = np.random.default_rng(9)
    model = Sequential(Conv2D(1, 2, 3, rng=rng, dtype=F64), ReLU(), Flatten(), Dense(8, 3, rng=rng, dtype=F64))
    sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    model.layers[0].params["w"][...] = sobel  # broadcast to both filters
    assert model.params["0.w"] is model.layers[0].params["w"]
    assert set(model.params) == {"0.w", "0.b", "3.w", "3.b"} and model.num_params() == 2 * 9 + 2 + 24 + 3
    model.layers[0].freeze()
    x = rng.standard_normal((2, 1, 4, 4))
    loss, d = softmax_cross_entropy(model.forward(x, training=True), np.array([0, 1]))
    dx = model.backward(d)
    assert dx.shape == x.shape and set(model.grads) == {"3.w", "3.b"}
    before = {k: v.copy() for k, v in model.params.items()}
    SGD(lr=0.1).step(model.params, model.grads)
    np.testing.assert_array_equal(model.params["0.w"], before["0.w"])
    np.testing.assert_array_equal(model.params["0.w"][1, 0], sobel)
    assert not np.array_equal(model.params["3.w"], before["3.w"])
    assert "[frozen]" in repr(model) and "Conv2D(1, 2" in repr(model)
    model.layers[0].unfreeze()
    model.backward(d)
    assert "0.w" in model.grads


def test_sequential_astype_converts_every_parameter():
    model = small_network(np.random.default_rng(10)).astype(np.float32)
    assert model.dtype == np.float32 and all(p.dtype == np.float32 for p in model.params.values())
    out = model.forward(np.zeros((2, 1, 8, 8), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: Conv2D(0, 4, 3), ValueError, r"in_channels must be >= 1, got 0"),
    (lambda: Conv2D(1, 4.0, 3), TypeError, r"out_channels must be an integer, got 4.0"),
    (lambda: Conv2D(1, 4, 3, init="xavier"), ValueError, r"init must be 'he' or 'glorot', got 'xavier'"),
    (lambda: Conv2D(1, 4, 3, rng="seed"), TypeError, r"rng must be None, an int seed or a numpy.random.Generator"),
    (lambda: Conv2D(1, 4, 3, rng=0).forward(np.zeros((2, 3, 8, 8))), ValueError,
     r"x must have shape \(N, 1, H, W\) for Conv2D.*got shape \(2, 3, 8, 8\)"),
    (lambda: Conv2D(1, 4, 3, rng=0).forward(np.zeros((8, 8))), ValueError, r"x must have shape \(N, C, H, W\)"),
    (lambda: Conv2D(1, 4, 3, rng=0).backward(np.zeros((1, 4, 6, 6))), RuntimeError, r"backward called before forward"),
    (lambda: Dense(5, 2, rng=0).forward(np.zeros((3, 4))), ValueError, r"x must have shape \(N, 5\).*got shape \(3, 4\)"),
    (lambda: MaxPool2D(0), ValueError, r"kernel_size must be >= 1, got 0"),
    (lambda: MaxPool2D(2).forward(np.zeros((1, 1, 1, 1))), ValueError, r"does not fit"),
    (lambda: Dropout(1.0), ValueError, r"p must be in \[0, 1\), got 1.0"),
    (lambda: Dropout("0.5"), TypeError, r"p must be a float"),
    (lambda: Flatten().forward(np.zeros(3)), ValueError, r"x must have shape \(N, ...\)"),
    (lambda: ReLU().forward(np.array(["a"])), TypeError, r"x must have a real numeric dtype"),
    (lambda: Sequential(ReLU(), "relu"), TypeError, r"layers\[1\] must be a layer"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError, r"labels must be in 0..2"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), ValueError, r"labels must be integers"),
    (lambda: softmax_cross_entropy(np.zeros(3), np.array([0])), ValueError, r"logits must have shape \(N, K\)"),
])
def test_bad_input_names_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
