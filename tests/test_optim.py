"""Optimizers: convergence on a quadratic, step-by-step agreement with torch.optim, in-place updates
and bad input."""
import numpy as np
import pytest

from convlib.optim import SGD, Adam, cosine_schedule

RNG = np.random.default_rng(0)
M = RNG.standard_normal((4, 4))
A = M @ M.T + np.eye(4)  # symmetric positive definite
B = RNG.standard_normal(4)
MINIMUM = np.linalg.solve(A, B)  # argmin of 0.5 x.A.x - b.x


def quadratic_grads(params):
    """Gradients of 0.5 x.A.x - b.x (for "x") and of 0.5 |y - 1|^2 (for "y", shape (2, 3))."""
    return {"x": A @ params["x"] - B, "y": params["y"] - 1.0}


@pytest.mark.parametrize("opt, steps", [
    (SGD(lr=0.05), 2000), (SGD(lr=0.02, momentum=0.9), 500), (Adam(lr=0.05), 2000)], ids=repr)
def test_optimizers_minimise_a_quadratic(opt, steps):
    params = {"x": np.zeros(4), "y": np.zeros((2, 3))}
    x_array = params["x"]
    for _ in range(steps):
        opt.step(params, quadratic_grads(params))
    assert params["x"] is x_array  # updated in place
    np.testing.assert_allclose(params["x"], MINIMUM, atol=1e-4)
    np.testing.assert_allclose(params["y"], 1.0, atol=1e-4)


def run_against_torch(ours, make_theirs, steps=10):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    params = {"x": rng.standard_normal(4), "y": rng.standard_normal((2, 3))}
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    theirs = make_theirs(torch, list(tensors.values()))
    for _ in range(steps):
        grads = quadratic_grads(params)
        for k, t in tensors.items():
            t.grad = torch.tensor(grads[k])
        theirs.step()
        ours.step(params, grads)
        for k, t in tensors.items():
            np.testing.assert_allclose(params[k], t.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_sgd_with_momentum_and_weight_decay_matches_torch_step_by_step():
    run_against_torch(SGD(lr=0.03, momentum=0.9, weight_decay=0.01),
                      lambda torch, ps: torch.optim.SGD(ps, lr=0.03, momentum=0.9, weight_decay=0.01))


def test_plain_sgd_matches_torch_step_by_step():
    run_against_torch(SGD(lr=0.1), lambda torch, ps: torch.optim.SGD(ps, lr=0.1))


def test_adam_matches_torch_step_by_step():
    run_against_torch(Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
                      lambda torch, ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6))


def test_adam_with_weight_decay_matches_torch_step_by_step():
    run_against_torch(Adam(lr=2e-3, weight_decay=0.1),
                      lambda torch, ps: torch.optim.Adam(ps, lr=2e-3, weight_decay=0.1))


def test_first_adam_step_moves_each_weight_by_lr():
    """With bias correction the first step is lr * g / (|g| + eps): lr in the direction of -g."""
    params = {"w": np.array([1.0, 2.0, 3.0])}
    Adam(lr=0.1).step(params, {"w": np.array([5.0, -0.01, 2.0])})
    np.testing.assert_allclose(params["w"], [0.9, 2.1, 2.9], rtol=1e-6)


def test_names_without_gradients_are_left_alone_and_float32_stays_float32():
    params = {"frozen": np.ones(3, dtype=np.float32), "w": np.ones(3, dtype=np.float32)}
    opt = Adam(lr=0.1)
    for _ in range(3):
        opt.step(params, {"w": np.full(3, 0.5)})
    np.testing.assert_array_equal(params["frozen"], 1.0)
    assert params["w"].dtype == np.float32 and np.all(params["w"] < 1.0)
    assert set(opt.state) == {"w"} and opt.state["w"]["t"] == 3


def test_cosine_schedule_falls_from_lr_towards_zero():
    schedule = cosine_schedule(0.01, 4)
    np.testing.assert_allclose([schedule(e) for e in range(5)],
                               [0.01, 0.01 * (1 + np.sqrt(0.5)) / 2, 0.005, 0.01 * (1 - np.sqrt(0.5)) / 2, 0.0], atol=1e-15)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: SGD(lr=0), ValueError, r"lr must be in \(0.0, inf\), got 0.0"),
    (lambda: SGD(lr="0.1"), TypeError, r"lr must be a real number, got '0.1'"),
    (lambda: SGD(lr=0.1, momentum=1.0), ValueError, r"momentum must be in \[0.0, 1.0\), got 1.0"),
    (lambda: SGD(lr=0.1, weight_decay=-1), ValueError, r"weight_decay must be in \[0.0, inf\), got -1.0"),
    (lambda: Adam(betas=0.9), ValueError, r"betas must be a pair"),
    (lambda: Adam(betas=(0.9, 1.5)), ValueError, r"betas\[1\] must be in \[0.0, 1.0\), got 1.5"),
    (lambda: Adam(eps=-1e-8), ValueError, r"eps must be in"),
    (lambda: SGD(0.1).step({"w": np.zeros(2)}, {"v": np.zeros(2)}), ValueError, r"grads has 'v', which is not in params"),
    (lambda: SGD(0.1).step({"w": np.zeros(2)}, {"w": np.zeros(3)}), ValueError,
     r"grads\['w'\] must have the shape of params\['w'\], \(2,\), got \(3,\)"),
    (lambda: SGD(0.1).step({"w": [0.0, 1.0]}, {"w": np.zeros(2)}), TypeError, r"params\['w'\] must be a float ndarray"),
    (lambda: SGD(0.1).step({"w": np.zeros(2, dtype=int)}, {"w": np.zeros(2)}), TypeError, r"of dtype int64"),
    (lambda: SGD(0.1).step([np.zeros(2)], [np.zeros(2)]), TypeError, r"params and grads must be dicts"),
    (lambda: cosine_schedule(0.1, 0), ValueError, r"epochs must be an integer >= 1, got 0"),
    (lambda: cosine_schedule(-0.1, 3), ValueError, r"lr must be in"),
])
def test_bad_input_names_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
