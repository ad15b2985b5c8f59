"""The network landscape: E of the 1-3-1 tanh network as a function of two weights."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import UserError
from chainrule.explorer import compute
from chainrule.explorer.network import (
    WEIGHT_IDS,
    NetworkLandscape,
    problem_data,
    trained_weights,
)


def numpy_error(w, x, t):
    """E = ½ Σ (y − t)² of y = b2 + Σ_j w2_j tanh(w1_j x + b1_j), written out in NumPy."""
    w1, b1, w2, b2 = w[0:3], w[3:6], w[6:9], w[9]
    z = np.tanh(np.outer(x, w1) + b1)
    y = z @ w2 + b2
    return 0.5 * np.sum((y - t) ** 2)


def test_trained_weights_fit_the_data():
    x, t = problem_data("sin")
    assert x.shape == t.shape == (50,)
    np.testing.assert_allclose(t, np.sin(np.pi * x))
    w = trained_weights("sin")
    assert w.shape == (10,)
    start = np.random.default_rng(0).normal(0.0, 1.0, size=10)
    assert numpy_error(w, x, t) < 0.1 < numpy_error(start, x, t)
    assert trained_weights("sin") is w  # cached
    with pytest.raises(ValueError):
        w[0] = 1.0  # read-only, so no caller changes the cached copy


def test_same_network_as_cr_nn():
    x, t = problem_data("square")
    w = trained_weights("square")
    model = cr.nn.Sequential(cr.nn.Linear(1, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    model[0].weight.data[:] = w[0:3].reshape(3, 1)
    model[0].bias.data[:] = w[3:6]
    model[2].weight.data[:] = w[6:9].reshape(1, 3)
    model[2].bias.data[:] = w[9]
    y = model(cr.tensor(x.reshape(-1, 1))).numpy().ravel()
    e = NetworkLandscape("square", "w1_1", "b2")
    a, b = e.trained_point
    got = e.fit(a, b, n=5)
    ref = model(cr.tensor(np.array(got["x"]).reshape(-1, 1))).numpy().ravel()
    np.testing.assert_allclose(got["y"], ref, rtol=1e-12)
    assert float(e(cr.tensor(a), cr.tensor(b)).item()) == pytest.approx(
        0.5 * np.sum((y - t) ** 2), rel=1e-12
    )


@pytest.mark.parametrize("wx, wy", [("w1_1", "b2"), ("w2_3", "b1_2"), ("b1_1", "w1_3")])
def test_landscape_values_and_gradients(wx, wy):
    e = NetworkLandscape("abs", wx, wy)
    x, t = problem_data("abs")
    i, j = WEIGHT_IDS.index(wx), WEIGHT_IDS.index(wy)

    def ref(a, b):
        w = np.array(trained_weights("abs"), dtype=np.float64)
        w[i], w[j] = a, b
        return numpy_error(w, x, t)

    a0, b0 = e.trained_point
    for a, b in [(a0, b0), (a0 + 0.7, b0 - 0.4), (-1.1, 0.9)]:
        p = compute.point(e, a, b)
        assert p["f"] == pytest.approx(ref(a, b), rel=1e-12)
        h = 1e-6
        gx = (ref(a + h, b) - ref(a - h, b)) / (2 * h)
        gy = (ref(a, b + h) - ref(a, b - h)) / (2 * h)
        assert p["gx"] == pytest.approx(gx, rel=1e-5, abs=1e-7)
        assert p["gy"] == pytest.approx(gy, rel=1e-5, abs=1e-7)


def test_landscape_grid_matches_points():
    e = NetworkLandscape("step", "w2_1", "w2_2")
    s = compute.surface(e, e.suggested_domain(), 6)
    assert np.array(s["z"]).shape == (6, 6)
    for i, j in [(0, 0), (2, 5), (5, 3)]:
        p = compute.point(e, s["x"][j], s["y"][i])
        assert s["z"][i][j] == pytest.approx(p["f"], rel=1e-12)
        assert s["gx"][i][j] == pytest.approx(p["gx"], rel=1e-10, abs=1e-12)
        assert s["gy"][i][j] == pytest.approx(p["gy"], rel=1e-10, abs=1e-12)
    # the trained weights are (close to) a minimum: small gradient there
    a, b = e.trained_point
    assert compute.point(e, a, b)["norm"] < 0.05


def test_landscape_hessian_matches_finite_differences_of_the_gradient():
    e = NetworkLandscape("sin", "w2_1", "b2")
    a, b = e.trained_point
    h = compute.hessian(e, a, b)
    eps = 1e-5
    num = np.empty((2, 2))
    for k, (da, db) in enumerate([(eps, 0), (0, eps)]):
        plus, minus = compute.point(e, a + da, b + db), compute.point(e, a - da, b - db)
        num[:, k] = [(plus["gx"] - minus["gx"]) / (2 * eps), (plus["gy"] - minus["gy"]) / (2 * eps)]
    np.testing.assert_allclose(h, num, rtol=1e-5, atol=1e-7)
    # E is quadratic in the output bias: ∂²E/∂b2² = N = 50
    assert h[1, 1] == pytest.approx(50.0, rel=1e-12)


def test_bad_choices_are_user_errors():
    with pytest.raises(UserError, match="unknown weight"):
        NetworkLandscape("sin", "w9", "b2")
    with pytest.raises(UserError, match="two different weights"):
        NetworkLandscape("sin", "b2", "b2")
    with pytest.raises(UserError, match="unknown problem"):
        NetworkLandscape("cubic", "w1_1", "b2")


def test_training_works_when_first_asked_inside_no_grad():
    from chainrule.explorer import network

    network.trained_weights.cache_clear()
    with cr.no_grad():
        w = network.trained_weights("step")
    assert w.shape == (10,) and np.all(np.isfinite(w))
